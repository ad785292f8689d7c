// api/: request decoding bounds and errors, the error mapping, and the
// conversion to kv requests.
#include <catch2/catch.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "coordinator/api/errors.h"
#include "coordinator/api/request.h"
#include "coordinator/api/response.h"
#include "schema/data_bytes.h"

namespace api = corral::api;
namespace wire = corral::schema::api;

namespace {

capnp::Data::Reader data(const std::string& s) { return corral::schema::as_data(s); }

std::string put_request(uint64_t id, const std::string& key, const std::string& value) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  auto p = r.initPut();
  p.setKey(data(key));
  p.setValue(data(value));
  p.setPrevKv(true);
  return api::to_flat_bytes(m);
}

}  // namespace

TEST_CASE("a well-formed put decodes and converts", "[api]") {
  auto out = api::parse_request(put_request(42, "/a", "v"), api::kDefaultMaxRequestBytes);
  REQUIRE(out.ok());
  CHECK(out.request->id() == 42);
  CHECK(out.request->request_class() == api::RequestClass::kWrite);
  auto put = api::to_put(out.request->get().getPut());
  CHECK(put.key == "/a");
  CHECK(put.value == "v");
  CHECK(put.options.prev_kv);
}

TEST_CASE("garbage is malformed, not a crash", "[api]") {
  std::string junk(64, '\xff');
  auto out = api::parse_request(junk, api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::MALFORMED);

  auto odd = api::parse_request("abc", api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error.code == wire::ErrorCode::MALFORMED);

  // A valid message cut short: the segment table promises more than there is.
  auto good = put_request(1, "/k", std::string(100, 'x'));
  auto cut = api::parse_request(good.substr(0, good.size() - 64), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error.code == wire::ErrorCode::MALFORMED);
}

TEST_CASE("a request past the byte bound is tooLarge", "[api]") {
  auto big = put_request(7, "/k", std::string(4096, 'x'));
  auto out = api::parse_request(big, 1024);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::TOO_LARGE);
  CHECK(out.id == 7);
}

TEST_CASE("an unknown union member is unknownRequest with the id", "[api]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(9);
  r.initStatus();
  // The union discriminant sits right after the 8-byte id in the data
  // section; a newer client's kind is a number we do not know.
  auto any = m.getRoot<capnp::AnyStruct>();
  auto bytes = any.getDataSection();
  REQUIRE(bytes.size() >= 10);
  bytes[8] = 0xe7;
  bytes[9] = 0x03;
  REQUIRE(static_cast<uint16_t>(m.getRoot<wire::Request>().which()) == 999);
  auto out = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::UNKNOWN_REQUEST);
  CHECK(out.id == 9);
}

namespace {
std::string keepalive_batch(uint64_t id, size_t ids) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  auto list = r.initLeaseKeepAliveBatch().initIds(static_cast<unsigned>(ids));
  for (unsigned i = 0; i < list.size(); ++i) list.set(i, 1000 + i);
  return api::to_flat_bytes(m);
}
}  // namespace

TEST_CASE("a keep-alive batch is leader-local up to the id bound, tooLarge past it", "[api][lease]") {
  auto fits = api::parse_request(keepalive_batch(5, api::kMaxKeepAliveBatchIds), api::kDefaultMaxRequestBytes);
  REQUIRE(fits.ok());
  CHECK(fits.request->request_class() == api::RequestClass::kLeaderLocal);
  CHECK(fits.request->get().getLeaseKeepAliveBatch().getIds().size() == api::kMaxKeepAliveBatchIds);
  CHECK(fits.request->get().getLeaseKeepAliveBatch().getIds()[3] == 1003);
  auto past = api::parse_request(keepalive_batch(6, api::kMaxKeepAliveBatchIds + 1), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error.code == wire::ErrorCode::TOO_LARGE);
  CHECK(past.id == 6);
  auto empty = api::parse_request(keepalive_batch(7, 0), api::kDefaultMaxRequestBytes);
  REQUIRE(empty.ok());
}

namespace {
// A grant batch of `grants` grants with `keys_each` keys each.
std::string grant_batch(uint64_t id, size_t grants, size_t keys_each) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  auto list = r.initLeaseGrantBatch().initGrants(static_cast<unsigned>(grants));
  for (auto g : list) {
    g.setTtl(10);
    auto puts = g.initPuts(static_cast<unsigned>(keys_each));
    for (auto p : puts) p.setKey(data("/agents/k"));
  }
  return api::to_flat_bytes(m);
}
}  // namespace

TEST_CASE("a grant batch is a write up to its bounds, tooLarge past them, badRequest empty", "[api][lease]") {
  auto fits = api::parse_request(grant_batch(5, api::kMaxGrantBatchGrants, 2), api::kDefaultMaxRequestBytes);
  REQUIRE(fits.ok());
  CHECK(fits.request->request_class() == api::RequestClass::kWrite);
  CHECK(fits.request->get().getLeaseGrantBatch().getGrants().size() == api::kMaxGrantBatchGrants);
  auto past = api::parse_request(grant_batch(6, api::kMaxGrantBatchGrants + 1, 0), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error.code == wire::ErrorCode::TOO_LARGE);
  CHECK(past.id == 6);
  auto keys = api::parse_request(grant_batch(7, 1000, api::kMaxGrantBatchKeys / 1000 + 1), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error.code == wire::ErrorCode::TOO_LARGE);
  CHECK(keys.error.message.find("key") != std::string::npos);
  auto empty = api::parse_request(grant_batch(8, 0, 0), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error.code == wire::ErrorCode::BAD_REQUEST);
  CHECK(empty.id == 8);
}

TEST_CASE("a txn past the op bound is tooLarge", "[api]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(3);
  auto txn = r.initTxn();
  auto ops = txn.initSuccess(api::kMaxTxnOpsPerRequest + 1);
  for (auto op : ops) op.initPut().setKey(data("/k"));
  auto out = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::TOO_LARGE);
}

TEST_CASE("a txn converts compares and nested ops", "[api]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  auto txn = r.initTxn();
  auto cmp = txn.initCompare(1)[0];
  cmp.setTarget(wire::Compare::Target::MOD);
  cmp.setResult(wire::Compare::Result::LESS);
  cmp.setKey(data("/c"));
  cmp.setModRevision(5);
  auto ops = txn.initSuccess(2);
  ops[0].initPut().setKey(data("/p"));
  ops[1].initTxn().initFailure(1)[0].initDeleteRange().setKey(data("/d"));
  auto out = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE(out.ok());
  CHECK(out.request->request_class() == api::RequestClass::kWrite);
  auto t = api::to_txn(out.request->get().getTxn());
  REQUIRE(t.compare.size() == 1);
  CHECK(t.compare[0].target == corral::kv::Compare::Target::kModRevision);
  CHECK(t.compare[0].op == corral::kv::Compare::Op::kLess);
  CHECK(t.compare[0].number == 5);
  REQUIRE(t.success.size() == 2);
  auto nested = std::get<std::shared_ptr<const corral::kv::TxnRequest>>(t.success[1]);
  REQUIRE(nested->failure.size() == 1);
  CHECK(std::get<corral::kv::DeleteRequest>(nested->failure[0]).key == "/d");
}

TEST_CASE("reads are classed by consistency", "[api]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.initRange().setSerializable(true);
  auto out = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE(out.ok());
  CHECK(out.request->request_class() == api::RequestClass::kRead);
  CHECK_FALSE(out.request->linearizable_read());
  r.getRange().setSerializable(false);
  auto lin = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE(lin.ok());
  CHECK(lin.request->linearizable_read());
}

TEST_CASE("server errors map to wire errors in one place", "[api]") {
  corral::Error compacted{corral::ErrorCode::kCompacted, "old", 17};
  auto w = api::to_wire_error(compacted);
  CHECK(w.code == wire::ErrorCode::COMPACTED);
  CHECK(w.compact_revision == 17);
  CHECK(api::to_wire_error({corral::ErrorCode::kLeaseNotFound, "x"}).code == wire::ErrorCode::LEASE_NOT_FOUND);
  CHECK(api::to_wire_error({corral::ErrorCode::kTooLarge, "x"}).code == wire::ErrorCode::TOO_LARGE);
  auto nl = api::not_leader_error("tcp://127.0.0.1:1");
  CHECK(nl.code == wire::ErrorCode::NOT_LEADER);
  CHECK(nl.leader_hint == "tcp://127.0.0.1:1");

  // An encoded error response carries code, id and hint.
  auto bytes = api::encode_error(5, api::Header{1, 2, 3, 4}, nl);
  kj::ArrayPtr<const capnp::word> words(reinterpret_cast<const capnp::word*>(bytes.data()),
                                        bytes.size() / sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(words);
  auto resp = reader.getRoot<wire::ServerMessage>().getResponse();
  CHECK(resp.getId() == 5);
  CHECK(resp.getHeader().getRevision() == 3);
  REQUIRE(resp.isError());
  CHECK(resp.getError().getCode() == wire::ErrorCode::NOT_LEADER);
  CHECK(std::string(resp.getError().getLeaderHint().cStr()) == "tcp://127.0.0.1:1");
}

TEST_CASE("peek_request_id reads the id from a request's head alone", "[api]") {
  const std::string whole = put_request(0x1122334455667788ULL, "/big", std::string(100000, 'v'));
  CHECK(api::peek_request_id(whole) == 0x1122334455667788ULL);
  CHECK(api::peek_request_id(std::string_view(whole).substr(0, 4096)) == 0x1122334455667788ULL);
  // Heads that hold no id: too short, garbage, a far pointer, no data words.
  CHECK(api::peek_request_id("") == 0);
  CHECK(api::peek_request_id(std::string_view(whole).substr(0, 8)) == 0);
  CHECK(api::peek_request_id(std::string(64, '\xff')) == 0);
  const std::string small = put_request(7, "/k", "v");  // one segment: root pointer at byte 8
  REQUIRE(api::peek_request_id(small) == 7);
  std::string far = small;
  far[8] = static_cast<char>((far[8] & ~3) | 2);
  CHECK(api::peek_request_id(far) == 0);
  std::string no_data = small;
  no_data[12] = 0;
  no_data[13] = 0;
  CHECK(api::peek_request_id(no_data) == 0);
}

TEST_CASE("check_before_proposing refuses a txn that writes one key twice", "[api]") {
  auto txn_request = [](std::vector<std::string> put_keys) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<wire::Request>();
    r.setId(3);
    auto ops = r.initTxn().initSuccess(static_cast<unsigned>(put_keys.size()));
    for (unsigned i = 0; i < put_keys.size(); ++i) ops[i].initPut().setKey(corral::schema::as_data(put_keys[i]));
    return api::to_flat_bytes(m);
  };
  auto dup = api::parse_request(txn_request({"/a", "/b", "/a"}), api::kDefaultMaxRequestBytes);
  REQUIRE(dup.ok());
  auto refused = api::check_before_proposing(*dup.request);
  REQUIRE(refused);
  CHECK(refused->code == wire::ErrorCode::BAD_REQUEST);
  CHECK(refused->message.find("duplicate key") != std::string::npos);
  for (auto keys : {std::vector<std::string>{"/a", "/b"}, std::vector<std::string>{"/a"}}) {
    auto fine = api::parse_request(txn_request(keys), api::kDefaultMaxRequestBytes);
    REQUIRE(fine.ok());
    CHECK_FALSE(api::check_before_proposing(*fine.request));
  }
  auto put = api::parse_request(put_request(4, "/a", "v"), api::kDefaultMaxRequestBytes);
  REQUIRE(put.ok());
  CHECK_FALSE(api::check_before_proposing(*put.request));
}
