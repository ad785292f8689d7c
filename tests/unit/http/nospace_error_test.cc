// The NOSPACE refusal as each layer names it: the wire's noSpace is the
// client's kNoSpace, which the HTTP API answers with 507 Insufficient
// Storage and the code "noSpace" (no Retry-After: retrying does not help
// until space is freed and the alarm disarmed).
#include <catch2/catch.hpp>

#include "client/codec.h"
#include "coordinator/http/http_error.h"
#include "schema/api.capnp.h"

using namespace corral;
using namespace corral::http;

TEST_CASE("noSpace: the wire code is the client's kNoSpace and HTTP 507 noSpace") {
  const auto wire = static_cast<uint16_t>(corral::schema::api::ErrorCode::NO_SPACE);
  REQUIRE(client::error_code_from_wire(wire) == client::ErrorCode::kNoSpace);
  const HttpError e = from_client_error(client::make_error(client::ErrorCode::kNoSpace, "NOSPACE alarm: member 1"));
  CHECK(e.status == 507);
  CHECK(e.code == "noSpace");
  CHECK(e.retry_after_seconds == 0);
  auto j = error_json(e);
  CHECK(j["error"]["code"] == "noSpace");
  CHECK(j["error"]["message"] == "NOSPACE alarm: member 1");
}
