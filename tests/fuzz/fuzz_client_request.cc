// A client's request as a member decodes it (api::parse_request), then read
// the way the member reads it: its class, the pre-proposal txn check, the
// kv conversions, the lease TTL raise and a full read of every field. The
// header promises that a request that parses "is safe to read: later reads
// cannot throw"; any kj::Exception escaping here breaks that promise.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "coordinator/api/request.h"
#include "coordinator/server/lease_min_ttl.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;
namespace wire = corral::schema::api;

namespace {

void read_as_the_member_does(const api::ParsedRequest& req) {
  auto r = req.get();
  (void)req.linearizable_read();
  (void)req.request_class();
  (void)api::check_before_proposing(req);
  switch (r.which()) {
    case wire::Request::RANGE: (void)api::to_range(r.getRange()); break;
    case wire::Request::PUT: (void)api::to_put(r.getPut()); break;
    case wire::Request::DELETE_RANGE: (void)api::to_delete(r.getDeleteRange()); break;
    case wire::Request::TXN:
      (void)api::to_txn(r.getTxn());
      (void)api::txn_writes(r.getTxn());
      break;
    default: break;
  }
  (void)server::raise_grant_ttl(req, 30);
  // Every field, every list element, every nested txn: the stringifier
  // walks the whole tree through the reader.
  (void)kj::str(r);
  // And once more: a member reads a request more than once.
  (void)kj::str(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = fuzz::as_view(data, size);
  auto out = api::parse_request(bytes, api::kDefaultMaxRequestBytes);
  const uint64_t peeked = api::peek_request_id(bytes);
  if (!out.ok()) {
    FUZZ_CHECK(out.error.code != wire::ErrorCode::OK);
    return 0;
  }
  // The id read from the head alone is the real one, or 0 (not found).
  FUZZ_CHECK(peeked == 0 || peeked == out.id);
  FUZZ_CHECK(out.request->id() == out.id);
  read_as_the_member_does(*out.request);
  // A smaller bound refuses it as tooLarge, with the same id.
  if (size > 8) {
    auto small = api::parse_request(bytes, size - 8);
    FUZZ_CHECK(!small.ok() && small.error.code == wire::ErrorCode::TOO_LARGE && small.id == out.id);
  }
  return 0;
}
