#include "client/txn.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <catch2/catch.hpp>

#include "client/codec.h"
#include "schema/api.capnp.h"

namespace api = corral::schema::api;
using namespace corral::client;

TEST_CASE("txn builder keeps compares and both branches in order") {
  TxnRequest t = Txn()
                     .when(compare_mod_revision("/lock", Compare::Op::kEqual, 0))
                     .when(compare_value("/cfg", Compare::Op::kNotEqual, "x"))
                     .then(op_put("/lock", "me", 5))
                     .then(op_delete("/old"))
                     .otherwise(op_get("/lock"))
                     .build();
  REQUIRE(t.compare.size() == 2);
  CHECK(t.compare[0].target == Compare::Target::kMod);
  CHECK(t.compare[1].value == "x");
  REQUIRE(t.success.size() == 2);
  CHECK(std::get<PutRequest>(t.success[0].op).lease == 5);
  CHECK(std::get<DeleteRequest>(t.success[1].op).key == "/old");
  REQUIRE(t.failure.size() == 1);
  CHECK(std::get<RangeRequest>(t.failure[0].op).key == "/lock");
}

TEST_CASE("txn encodes compare targets into the right union member") {
  TxnRequest t = Txn()
                     .when(compare_version("/a", Compare::Op::kGreater, 3))
                     .when(compare_create_revision("/b", Compare::Op::kLess, 4))
                     .when(compare_lease("/c", Compare::Op::kEqual, 6))
                     .when(compare_value("/d", Compare::Op::kEqual, "v"))
                     .then(op_txn(Txn().then(op_put("/n", "1")).build()))
                     .build();
  std::string bytes = encode_request(11, t).value();
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / 8);
  memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words.asPtr());
  auto txn = reader.getRoot<api::Request>().getTxn();
  auto cmp = txn.getCompare();
  REQUIRE(cmp.size() == 4);
  CHECK(cmp[0].getTarget() == api::Compare::Target::VERSION);
  CHECK(cmp[0].which() == api::Compare::VERSION);
  CHECK(cmp[0].getVersion() == 3);
  CHECK(cmp[0].getResult() == api::Compare::Result::GREATER);
  CHECK(cmp[1].which() == api::Compare::CREATE_REVISION);
  CHECK(cmp[1].getResult() == api::Compare::Result::LESS);
  CHECK(cmp[2].which() == api::Compare::LEASE);
  CHECK(cmp[2].getLease() == 6);
  CHECK(cmp[3].which() == api::Compare::VALUE);
  REQUIRE(txn.getSuccess().size() == 1);
  REQUIRE(txn.getSuccess()[0].which() == api::RequestOp::TXN);
  CHECK(txn.getSuccess()[0].getTxn().getSuccess()[0].which() == api::RequestOp::PUT);
}

TEST_CASE("a txn nested too deep is refused before sending") {
  TxnRequest t = Txn().then(op_put("/k", "v")).build();
  for (int i = 0; i < kMaxTxnDepth; ++i) t = Txn().then(op_txn(t)).build();
  Result<std::string> r = encode_request(1, t);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kBadRequest);
}

TEST_CASE("txn responses decode nested results") {
  capnp::MallocMessageBuilder m;
  auto txn = m.initRoot<api::ServerMessage>().initResponse().initTxn();
  txn.setSucceeded(true);
  auto ops = txn.initResponses(2);
  ops[0].initPut();
  ops[1].initTxn().initResponses(1)[0].initDeleteRange().setDeleted(3);
  auto words = capnp::messageToFlatArray(m);
  auto b = words.asBytes();
  auto msg = decode_server_message(std::string(reinterpret_cast<const char*>(b.begin()), b.size()));
  REQUIRE(msg.ok());
  auto& result = std::get<TxnResult>(std::get<ResponseMessage>(msg.value()).body);
  CHECK(result.succeeded);
  REQUIRE(result.responses.size() == 2);
  CHECK(std::holds_alternative<PutResult>(result.responses[0].result));
  auto& nested = std::get<std::vector<TxnResult>>(result.responses[1].result);
  REQUIRE(nested.size() == 1);
  CHECK(std::get<DeleteResult>(nested[0].responses[0].result).deleted == 3);
}
