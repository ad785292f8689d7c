#include <catch2/catch.hpp>

#include "coordinator/kv/compaction_policy.h"

using namespace corral::kv;

TEST_CASE("revision retention keeps the last N revisions", "[compaction_policy]") {
  CHECK(revision_retention_target(100, 0, 10) == std::optional<Revision>(90));
  CHECK_FALSE(revision_retention_target(100, 90, 10));
  CHECK_FALSE(revision_retention_target(5, 0, 10));
  CHECK_FALSE(revision_retention_target(100, 0, -1));
  CHECK(revision_retention_target(100, 50, 0) == std::optional<Revision>(100));
}

TEST_CASE("age retention proposes the revision current retention ago", "[compaction_policy]") {
  AgeRetention policy(1000);
  CHECK_FALSE(policy.target(0, 0));
  policy.observe(0, 5);
  policy.observe(400, 9);
  policy.observe(800, 20);
  CHECK_FALSE(policy.target(999, 0));
  CHECK(policy.target(1000, 0) == std::optional<Revision>(5));
  CHECK(policy.target(1500, 0) == std::optional<Revision>(9));
  CHECK_FALSE(policy.target(1500, 9));
  policy.observe(2000, 30);
  CHECK(policy.target(2000, 0) == std::optional<Revision>(20));
  CHECK(policy.samples() == 2);  // older samples can never be the answer again

  // Time that steps back is ignored; bursts of observations stay bounded.
  policy.observe(100, 99);
  CHECK(policy.target(2000, 0) == std::optional<Revision>(20));
  for (int64_t t = 2001; t < 2001 + 100000; ++t) policy.observe(t, t);
  CHECK(policy.samples() <= AgeRetention::kMaxSamples + 1);
}
