// fuzz_client_request and fuzz_raft_records found client requests that
// api::parse_request accepted (or threw out of) whose pointers did not match
// their declared types: totalSize() walked them without knowing the types,
// and the first typed read threw a kj::Exception out of the member's node
// loop (or out of apply, on every member, for a committed txn).
#include <catch2/catch.hpp>
#include <capnp/any.h>
#include <capnp/message.h>

#include "coordinator/api/request.h"
#include "coordinator/api/response.h"
#include "coordinator/server/command.h"
#include "coordinator/server/lease_min_ttl.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "schema/data_bytes.h"

using namespace corral;
namespace wire = corral::schema::api;

namespace {

// A request whose `field`-th pointer of the struct `target` picks is
// replaced by `corrupt` (a pointer of another kind than declared).
template <typename Pick, typename Corrupt>
std::string corrupted_request(Pick pick, Corrupt corrupt) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(77);
  capnp::AnyStruct::Builder target = pick(r);
  corrupt(target.getPointerSection()[0]);
  return api::to_flat_bytes(m);
}

std::string txn_with_struct_as_compare_list() {
  return corrupted_request([](wire::Request::Builder r) { return r.initTxn(); },
                           [](capnp::AnyPointer::Builder p) { p.initAsAnyStruct(1, 0); });
}

std::string put_with_words_as_key() {
  return corrupted_request([](wire::Request::Builder r) { return r.initPut(); },
                           [](capnp::AnyPointer::Builder p) { p.initAsAnyList(capnp::ElementSize::EIGHT_BYTES, 2); });
}

}  // namespace

TEST_CASE("a txn whose compare list is a struct is malformed, not a throw", "[fuzz_found][api]") {
  api::ParseOutcome out;
  REQUIRE_NOTHROW(out = api::parse_request(txn_with_struct_as_compare_list(), api::kDefaultMaxRequestBytes));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::MALFORMED);
  CHECK(out.id == 77);
}

TEST_CASE("a put whose key is a list of words is malformed, not a later throw", "[fuzz_found][api]") {
  api::ParseOutcome out;
  REQUIRE_NOTHROW(out = api::parse_request(put_with_words_as_key(), api::kDefaultMaxRequestBytes));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::MALFORMED);
}

TEST_CASE("a well-formed request still parses and reads", "[fuzz_found][api]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(5);
  auto txn = r.initTxn();
  txn.initCompare(1)[0].setKey(schema::as_data("/a"));
  txn.initSuccess(1)[0].initPut().setKey(schema::as_data("/a"));
  auto out = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE(out.ok());
  CHECK(api::to_txn(out.request->get().getTxn()).success.size() == 1);
}

// The committed form: a command entry holding such a txn is applied by
// every member; apply answers malformed and goes on.
TEST_CASE("apply of a committed malformed txn answers an error and does not throw", "[fuzz_found][server]") {
  storage::EngineOptions eo;
  eo.in_memory = true;
  eo.path = "/fuzz-found-apply";
  auto engine = std::move(storage::Engine::open(eo)).value();
  server::StateMachineOptions so;
  so.self_id = 1;
  so.answer_all = true;
  auto sm = std::move(server::StateMachine::open(*engine, so)).value();
  server::CommandWriter w(1);
  w.add(1, txn_with_struct_as_compare_list());
  storage::WriteBatch batch;
  server::ApplyOutput out;
  REQUIRE_NOTHROW(sm->apply_entry(raft::Entry{1, 1, raft::EntryType::kNormal, w.take()}, batch, out));
  REQUIRE(out.answers.size() == 1);
}

// fuzz_client_request: a lease grant (TTL 0, so raised to the minimum)
// whose root holds a second pointer, unknown to the schema, that is a
// double-far pointer into a segment that does not exist. Copying the
// request to raise its TTL followed it and threw in the node loop.
TEST_CASE("a lease grant with a broken unknown pointer is malformed, not a throw when raised", "[fuzz_found][api]") {
  const unsigned char bytes[] = {
      0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xfa, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  api::ParseOutcome out;
  REQUIRE_NOTHROW(out = api::parse_request(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)),
                                           api::kDefaultMaxRequestBytes));
  if (out.ok()) {
    CHECK_NOTHROW(server::raise_grant_ttl(*out.request, 30));
  } else {
    CHECK(out.error.code == wire::ErrorCode::MALFORMED);
  }
}
