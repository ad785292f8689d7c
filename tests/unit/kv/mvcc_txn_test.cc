#include <catch2/catch.hpp>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/limits.h"
#include "kv_test_util.h"

using namespace corral;
using namespace corral::kv;
using corral::kv::test::StoreFixture;

namespace {

// Nested txns of kMaxTxnOps ops each that together pass kMaxTxnTreeOps.
constexpr size_t kMaxTreeFanout = kMaxTxnTreeOps / kMaxTxnOps + 1;

Compare cmp(std::string key, Compare::Target target, Compare::Op op, int64_t number,
            std::string value = {}) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.op = op;
  c.number = number;
  c.value = std::move(value);
  return c;
}

PutRequest put_req(std::string key, std::string value) {
  PutRequest p;
  p.key = std::move(key);
  p.value = std::move(value);
  return p;
}

Result<TxnResult> run(StoreFixture& f, const TxnRequest& req) {
  std::optional<Result<TxnResult>> out;
  f.write([&](WriteTxn& t) { out.emplace(t.txn(req)); });
  return std::move(*out);
}

bool succeeds(StoreFixture& f, Compare c) {
  TxnRequest req;
  req.compare.push_back(std::move(c));
  auto r = run(f, req);
  REQUIRE(r.ok());
  return r->succeeded;
}

}  // namespace

TEST_CASE("txn compare matrix over value, version, create, mod and lease", "[txn]") {
  StoreFixture f;
  f.put("k", "m", 5);  // 1
  f.put("x", "1");     // 2
  f.put("k", "m", 5);  // 3: k version 2, create 1, mod 3, lease 5
  using T = Compare::Target;
  using O = Compare::Op;
  struct Case {
    T target;
    int64_t actual;
  };
  for (Case c : {Case{T::kVersion, 2}, Case{T::kCreateRevision, 1}, Case{T::kModRevision, 3},
                 Case{T::kLease, 5}}) {
    INFO("target " << static_cast<int>(c.target));
    CHECK(succeeds(f, cmp("k", c.target, O::kEqual, c.actual)));
    CHECK_FALSE(succeeds(f, cmp("k", c.target, O::kEqual, c.actual + 1)));
    CHECK(succeeds(f, cmp("k", c.target, O::kNotEqual, c.actual + 1)));
    CHECK_FALSE(succeeds(f, cmp("k", c.target, O::kNotEqual, c.actual)));
    CHECK(succeeds(f, cmp("k", c.target, O::kLess, c.actual + 1)));
    CHECK_FALSE(succeeds(f, cmp("k", c.target, O::kLess, c.actual)));
    CHECK(succeeds(f, cmp("k", c.target, O::kGreater, c.actual - 1)));
    CHECK_FALSE(succeeds(f, cmp("k", c.target, O::kGreater, c.actual)));
  }
  CHECK(succeeds(f, cmp("k", T::kValue, O::kEqual, 0, "m")));
  CHECK_FALSE(succeeds(f, cmp("k", T::kValue, O::kEqual, 0, "n")));
  CHECK(succeeds(f, cmp("k", T::kValue, O::kNotEqual, 0, "n")));
  CHECK(succeeds(f, cmp("k", T::kValue, O::kLess, 0, "n")));
  CHECK_FALSE(succeeds(f, cmp("k", T::kValue, O::kLess, 0, "l")));
  CHECK(succeeds(f, cmp("k", T::kValue, O::kGreater, 0, "l")));

  // A missing key: revisions/version/lease are 0, a value compare fails.
  CHECK(succeeds(f, cmp("absent", T::kVersion, O::kEqual, 0)));
  CHECK(succeeds(f, cmp("absent", T::kCreateRevision, O::kEqual, 0)));
  CHECK(succeeds(f, cmp("absent", T::kLease, O::kLess, 1)));
  CHECK_FALSE(succeeds(f, cmp("absent", T::kValue, O::kNotEqual, 0, "anything")));

  // Over a range: every key must hold.
  Compare all = cmp("", T::kModRevision, O::kLess, 4);
  all.key = std::string(kRangeEndAll);
  all.range_end = std::string(kRangeEndAll);
  CHECK(succeeds(f, all));
  all.number = 3;
  CHECK_FALSE(succeeds(f, all));
  CHECK(f.store().current_revision() == 3);  // compares alone never write
}

TEST_CASE("txn runs then or else, its ops share one revision and see earlier writes", "[txn]") {
  StoreFixture f;
  f.put("lock", "free");  // 1

  TxnRequest req;
  req.compare.push_back(cmp("lock", Compare::Target::kValue, Compare::Op::kEqual, 0, "free"));
  req.success.push_back(put_req("lock", "held"));
  req.success.push_back(put_req("owner", "me"));
  req.success.push_back(RangeRequest{"owner", "", {}});
  req.success.push_back(DeleteRequest{"lock", "", true});
  req.success.push_back(put_req("lock", "again"));
  req.failure.push_back(RangeRequest{"lock", "", {}});

  auto r = run(f, req);
  REQUIRE(r.ok());
  CHECK(r->succeeded);
  CHECK(r->revision == 2);
  REQUIRE(r->responses.size() == 5);
  auto& seen = std::get<RangeResult>(r->responses[2]);
  REQUIRE(seen.kvs.size() == 1);
  CHECK(seen.kvs[0].value == "me");
  CHECK(seen.kvs[0].mod_revision == 2);
  auto& deleted = std::get<DeleteResult>(r->responses[3]);
  CHECK(deleted.deleted == 1);
  REQUIRE(deleted.prev_kvs.size() == 1);
  CHECK(deleted.prev_kvs[0].value == "held");
  CHECK(std::get<PutResult>(r->responses[4]).revision == 2);

  CHECK(f.store().current_revision() == 2);
  auto lock = f.get("lock");
  REQUIRE(lock);
  CHECK(lock->value == "again");
  CHECK(lock->create_revision == 2);  // a new generation after the delete
  CHECK(lock->version == 1);
  CHECK(f.get("owner")->mod_revision == 2);

  // Now the compare fails: the else branch reads, nothing is written.
  auto again = run(f, req);
  REQUIRE(again.ok());
  CHECK_FALSE(again->succeeded);
  REQUIRE(again->responses.size() == 1);
  CHECK(std::get<RangeResult>(again->responses[0]).kvs[0].value == "again");
  CHECK(f.store().current_revision() == 2);
}

TEST_CASE("nested txn, and a failing op undoes the whole txn", "[txn]") {
  StoreFixture f;
  f.put("a", "1");  // 1

  auto inner = std::make_shared<TxnRequest>();
  inner->compare.push_back(cmp("b", Compare::Target::kValue, Compare::Op::kEqual, 0, "2"));
  inner->success.push_back(put_req("c", "3"));
  TxnRequest outer;
  outer.success.push_back(put_req("b", "2"));
  outer.success.push_back(std::shared_ptr<const TxnRequest>(inner));
  auto r = run(f, outer);
  REQUIRE(r.ok());
  auto nested = std::get<std::shared_ptr<const TxnResult>>(r->responses[1]);
  CHECK(nested->succeeded);
  CHECK(f.get("c")->mod_revision == 2);

  // The third op fails at run time (ignore_value on a missing key).
  TxnRequest bad;
  bad.success.push_back(put_req("a", "changed"));
  bad.success.push_back(DeleteRequest{"b", "", false});
  PutRequest missing = put_req("nope", "");
  missing.options.ignore_value = true;
  bad.success.push_back(missing);
  auto failed = run(f, bad);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ErrorCode::kNotFound);
  CHECK(f.store().current_revision() == 2);
  CHECK(f.get("a")->value == "1");
  CHECK(f.get("b")->value == "2");

  // A range at a compacted revision inside a txn fails it too.
  f.put("a", "x");  // 3
  f.compact(3);
  TxnRequest old;
  old.success.push_back(put_req("a", "y"));
  RangeRequest past{"a", "", {}};
  past.options.revision = 2;
  old.success.push_back(past);
  auto compacted = run(f, old);
  REQUIRE_FALSE(compacted.ok());
  CHECK(compacted.error().code == ErrorCode::kCompacted);
  CHECK(compacted.error().revision == 3);
  CHECK(f.get("a")->value == "x");
}

TEST_CASE("txn shape limits: ops per list, nesting, bad ops", "[txn][limits]") {
  StoreFixture f;
  TxnRequest many;
  for (size_t i = 0; i <= kMaxTxnOps; ++i) many.success.push_back(put_req("k" + std::to_string(i), "v"));
  auto r = run(f, many);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTooLarge);
  many.success.pop_back();
  REQUIRE(run(f, many).ok());
  CHECK(f.store().current_revision() == 1);
  CHECK(f.store().range("k", "l", {})->count == static_cast<int64_t>(kMaxTxnOps));

  auto deep = std::make_shared<TxnRequest>();
  for (size_t level = 1; level < kMaxTxnDepth + 1; ++level) {
    auto up = std::make_shared<TxnRequest>();
    up->success.push_back(std::shared_ptr<const TxnRequest>(deep));
    deep = up;
  }
  auto too_deep = run(f, *deep);
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.error().code == ErrorCode::kTooLarge);

  // Within every per-list bound, but too many ops summed over the nesting.
  auto wide = std::make_shared<TxnRequest>();
  for (size_t i = 0; i < kMaxTxnOps; ++i) wide->success.push_back(put_req("w", "v"));
  TxnRequest tree;
  for (size_t i = 0; i < kMaxTreeFanout; ++i) tree.success.push_back(std::shared_ptr<const TxnRequest>(wide));
  auto too_many = run(f, tree);
  REQUIRE_FALSE(too_many.ok());
  CHECK(too_many.error().code == ErrorCode::kTooLarge);

  TxnRequest compares;
  for (size_t i = 0; i <= kMaxTxnOps; ++i) compares.compare.push_back(cmp("k", Compare::Target::kVersion, Compare::Op::kEqual, 0));
  CHECK(run(f, compares).error().code == ErrorCode::kTooLarge);

  TxnRequest bad_key;
  bad_key.success.push_back(put_req("fine", "v"));
  bad_key.failure.push_back(put_req("", "v"));  // validated even on the branch not taken
  CHECK(run(f, bad_key).error().code == ErrorCode::kBadRequest);
  TxnRequest null_nested;
  null_nested.success.push_back(std::shared_ptr<const TxnRequest>());
  CHECK(run(f, null_nested).error().code == ErrorCode::kBadRequest);
  CHECK(f.store().current_revision() == 1);
}
