// A txn branch may not write a key twice (etcd: "duplicate key given in txn
// request"): check_txn_duplicates, which the api layer runs before a txn is
// proposed (an integration test shows a refused txn changes nothing).
#include <catch2/catch.hpp>

#include <memory>

#include "coordinator/kv/txn_check.h"

using namespace corral;
using namespace corral::kv;

namespace {

RequestOp put(std::string key) { return PutRequest{std::move(key), "v", 0, {}}; }

RequestOp del(std::string key, std::string range_end = {}) {
  DeleteRequest d;
  d.key = std::move(key);
  d.range_end = std::move(range_end);
  return d;
}

RequestOp nested(std::vector<RequestOp> success, std::vector<RequestOp> failure = {}) {
  auto t = std::make_shared<TxnRequest>();
  t->success = std::move(success);
  t->failure = std::move(failure);
  return std::shared_ptr<const TxnRequest>(std::move(t));
}

TxnRequest then_ops(std::vector<RequestOp> ops) {
  TxnRequest t;
  t.success = std::move(ops);
  return t;
}

bool refused_as_duplicate(const TxnRequest& t) {
  Status st = check_txn_duplicates(t);
  if (st.ok()) return false;
  INFO(st.error().message);
  CHECK(st.error().code == ErrorCode::kBadRequest);
  CHECK(st.error().message.find("duplicate key") != std::string::npos);
  return true;
}

}  // namespace

TEST_CASE("txn check: a key put twice or put and deleted in one branch is refused", "[txn][txn_check]") {
  CHECK(refused_as_duplicate(then_ops({put("/a"), put("/a")})));
  CHECK(refused_as_duplicate(then_ops({put("/a"), del("/a")})));
  CHECK(refused_as_duplicate(then_ops({del("/a"), put("/a")})));
  CHECK(refused_as_duplicate(then_ops({del("/dir/", "/dir0"), put("/dir/x")})));
  CHECK(refused_as_duplicate(then_ops({put("/dir/x"), del("/", std::string(1, '\0'))})));
  // The else branch is checked the same way.
  TxnRequest in_else;
  in_else.failure = {put("/a"), put("/a")};
  CHECK(refused_as_duplicate(in_else));
  // Nested: a put below and a put or delete of the same key above.
  CHECK(refused_as_duplicate(then_ops({put("/a"), nested({put("/a")})})));
  CHECK(refused_as_duplicate(then_ops({del("/a"), nested({put("/a")})})));
  CHECK(refused_as_duplicate(then_ops({nested({put("/a")}), nested({put("/a")})})));
  CHECK(refused_as_duplicate(then_ops({nested({del("/a")}), put("/a")})));
}

TEST_CASE("txn check: writes that cannot both run, or touch other keys, pass", "[txn][txn_check]") {
  CHECK(check_txn_duplicates(then_ops({put("/a"), put("/b"), del("/c"), del("/c")})).ok());
  TxnRequest both_branches;
  both_branches.success = {put("/a")};
  both_branches.failure = {put("/a")};
  CHECK(check_txn_duplicates(both_branches).ok());
  // A nested txn's then and else exclude each other.
  CHECK(check_txn_duplicates(then_ops({nested({put("/a")}, {put("/a")})})).ok());
  CHECK(check_txn_duplicates(then_ops({del("/a", "/b"), put("/b")})).ok());  // range end is exclusive
}
