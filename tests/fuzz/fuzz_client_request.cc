// A client's request as a member decodes it (api::parse_request), then read
// the way the member reads it: its class, the pre-proposal txn check, the
// kv conversions, the lease TTL raise and a full read of every field. The
// header promises that a request that parses "is safe to read: later reads
// cannot throw"; any kj::Exception escaping here breaks that promise.
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "coordinator/api/request.h"
#include "coordinator/server/lease_min_ttl.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;
namespace wire = corral::schema::api;

namespace {

// Reads every field, every list element (primitives too) and every byte of
// every Text and Data through the reader, and returns a sum of what it read
// so that the reads are not optimised away. The harness's own walk, apart
// from the decoder's schema_walk, and without kj::str's string building
// (which was 56% of this target's time and nothing a member does).
uint64_t read_everything(capnp::DynamicValue::Reader value);

uint64_t read_struct(capnp::DynamicStruct::Reader s) {
  uint64_t sum = 0;
  for (auto field : s.getSchema().getNonUnionFields()) sum += read_everything(s.get(field));
  KJ_IF_MAYBE(active, s.which()) { sum += read_everything(s.get(*active)); }
  return sum;
}

uint64_t read_everything(capnp::DynamicValue::Reader value) {
  switch (value.getType()) {
    case capnp::DynamicValue::STRUCT: return read_struct(value.as<capnp::DynamicStruct>());
    case capnp::DynamicValue::LIST: {
      uint64_t sum = 0;
      for (auto e : value.as<capnp::DynamicList>()) sum += read_everything(e);
      return sum + 1;
    }
    case capnp::DynamicValue::TEXT: {
      uint64_t sum = 0;
      for (char c : value.as<capnp::Text>()) sum += static_cast<unsigned char>(c);
      return sum;
    }
    case capnp::DynamicValue::DATA: {
      uint64_t sum = 0;
      for (auto b : value.as<capnp::Data>()) sum += b;
      return sum;
    }
    case capnp::DynamicValue::BOOL: return value.as<bool>() ? 1 : 0;
    case capnp::DynamicValue::INT: return static_cast<uint64_t>(value.as<int64_t>());
    case capnp::DynamicValue::UINT: return value.as<uint64_t>();
    case capnp::DynamicValue::FLOAT: return value.as<double>() != 0 ? 1 : 0;
    case capnp::DynamicValue::ENUM: return value.as<capnp::DynamicEnum>().getRaw();
    default: return 0;
  }
}

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
  // Every field, every list element, every nested txn, and once more: a
  // member reads a request more than once (a finite traversal budget
  // would run out on the second read of a tree that aliases pointers).
  const uint64_t first = read_everything(capnp::toDynamic(r));
  FUZZ_CHECK(read_everything(capnp::toDynamic(r)) == first);
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
