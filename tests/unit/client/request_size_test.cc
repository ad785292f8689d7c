// A request past Options::max_request_bytes fails with kTooLarge before it
// is sent: the member would refuse it, and past ZeroMQ's bound it would
// drop the connection instead of answering.
#include <catch2/catch.hpp>

#include "client/client.h"
#include "tests/unit/client/fake_member.h"

using namespace corral::client;
using namespace corral::client::testing;

namespace {

std::string put_ok(uint64_t id) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<api::ServerMessage>().initResponse();
  r.setId(id);
  r.initHeader().setRevision(2);
  r.initPut();
  return flat_bytes(m);
}

}  // namespace

TEST_CASE("a request past max_request_bytes is refused locally with kTooLarge") {
  FakeMember member([](api::Request::Reader req, std::vector<std::string>& replies) {
    replies.push_back(put_ok(req.getId()));
  });
  Options o;
  o.wire = test_wire();
  o.endpoints = {member.endpoint()};
  o.request_timeout = std::chrono::milliseconds(3000);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  Result<PutResult> over = client.value()->put("/big", std::string(kDefaultMaxRequestBytes, 'v'));
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == ErrorCode::kTooLarge);
  CHECK(member.requests() == 0);
  // Below the bound, and the client is unharmed.
  CHECK(client.value()->put("/big", std::string(kDefaultMaxRequestBytes / 2, 'v')).ok());
  CHECK(member.requests() == 1);

  Options tight = o;
  tight.max_request_bytes = 1024;
  auto small = Client::connect(tight);
  REQUIRE(small.ok());
  Result<PutResult> r = small.value()->put("/k", std::string(2048, 'v'));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTooLarge);
  CHECK(member.requests() == 1);
}
