#include <catch2/catch.hpp>

#include "coordinator/kv/kv_hash.h"
#include "kv_test_util.h"

using namespace corral;
using namespace corral::kv;
using corral::kv::test::StoreFixture;

namespace {

KvHash hash_of(StoreFixture& f, Revision revision = 0) {
  auto h = hash_kv(f.engine(), revision, f.store().current_revision(), f.store().compact_revision());
  INFO((h.ok() ? std::string("ok") : h.error().message));
  REQUIRE(h.ok());
  return *h;
}

}  // namespace

TEST_CASE("hash_kv: the same history gives the same hash, another history another", "[kv][hashkv]") {
  StoreFixture a, b, c, d;
  for (StoreFixture* f : {&a, &b, &c, &d}) {
    f->put("/k1", "v1");
    f->put("/k2", "v2");
  }
  a.put("/k3", "v3");
  b.put("/k3", "v3");
  c.put("/k3", "v4");   // another value
  d.put("/k4", "v3");   // another key
  const KvHash ha = hash_of(a);
  CHECK(ha.hash_revision == 3);
  CHECK(hash_of(b).hash == ha.hash);
  CHECK(hash_of(c).hash != ha.hash);
  CHECK(hash_of(d).hash != ha.hash);
  // The same final state reached by another history differs too.
  StoreFixture e;
  e.put("/k1", "x");
  e.put("/k1", "v1");
  e.put("/k2", "v2");
  e.put("/k3", "v3");
  CHECK(hash_of(e).hash != ha.hash);
  // At a past revision, only the history up to it counts.
  CHECK(hash_of(a, 2).hash == hash_of(c, 2).hash);
  CHECK(hash_of(a, 2).hash != ha.hash);
  // A delete changes it; a lease on a put changes it.
  b.del("/k1");
  CHECK(hash_of(b).hash != ha.hash);
  CHECK(hash_of(b, 3).hash == ha.hash);
  StoreFixture leased;
  leased.put("/k1", "v1");
  leased.put("/k2", "v2");
  leased.put("/k3", "v3", 7);
  CHECK(hash_of(leased).hash != ha.hash);
}

TEST_CASE("hash_kv: revisions past the current one or below the compaction are refused", "[kv][hashkv]") {
  StoreFixture f;
  for (int i = 0; i < 5; ++i) f.put("/k", std::to_string(i));
  f.compact(3);
  auto future = hash_kv(f.engine(), 9, f.store().current_revision(), f.store().compact_revision());
  REQUIRE_FALSE(future.ok());
  CHECK(future.error().code == ErrorCode::kFutureRevision);
  auto compacted = hash_kv(f.engine(), 2, f.store().current_revision(), f.store().compact_revision());
  REQUIRE_FALSE(compacted.ok());
  CHECK(compacted.error().code == ErrorCode::kCompacted);
  CHECK(compacted.error().revision == 3);
  CHECK(hash_of(f).compact_revision == 3);
}
