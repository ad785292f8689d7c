#include "tests/sim/safety_checker.h"

#include <catch2/catch.hpp>

#include "coordinator/raft/memory_storage.h"

namespace corral::sim {
namespace {

raft::Entry entry(raft::Index index, raft::Term term, std::string data = "") {
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.data = std::move(data);
  return e;
}

// A log holding entries with the given terms at indexes 1, 2, ...
raft::MemoryStorage log_with_terms(const std::vector<raft::Term>& terms, raft::Index commit = 0) {
  raft::MemoryStorage s;
  std::vector<raft::Entry> ents;
  for (size_t i = 0; i < terms.size(); ++i) ents.push_back(entry(i + 1, terms[i], "e" + std::to_string(i + 1)));
  REQUIRE(s.append(ents) == raft::Status::kOk);
  s.set_hard_state({terms.empty() ? 0 : terms.back(), 0, commit});
  return s;
}

TEST_CASE("election safety: one leader per term", "[safety]") {
  SafetyChecker c;
  raft::MemoryStorage log = log_with_terms({1});
  CHECK_FALSE(c.on_leader(1, 2, log));
  CHECK_FALSE(c.on_leader(1, 2, log));  // the same leader reported twice
  CHECK_FALSE(c.on_leader(2, 3, log));
  auto v = c.on_leader(3, 2, log);
  REQUIRE(v);
  CHECK(v->property == "election safety");
}

TEST_CASE("leader completeness: a later leader holds every committed entry", "[safety]") {
  SafetyChecker c;
  CHECK_FALSE(c.on_committed(1, entry(1, 1, "e1")));
  CHECK_FALSE(c.on_committed(1, entry(2, 1, "e2")));
  CHECK_FALSE(c.on_leader(2, 2, log_with_terms({1, 1})));
  CHECK_FALSE(c.on_leader(3, 3, log_with_terms({1, 1, 2})));
  auto missing = c.on_leader(1, 4, log_with_terms({1}));
  REQUIRE(missing);
  CHECK(missing->property == "leader completeness");
  auto other_term = c.on_leader(2, 5, log_with_terms({1, 3}));
  REQUIRE(other_term);
  CHECK(other_term->property == "leader completeness");
  // A leader of the committing term itself is not judged by it.
  SafetyChecker d;
  CHECK_FALSE(d.on_committed(1, entry(1, 3, "e1")));
  CHECK_FALSE(d.on_leader(1, 3, log_with_terms({})));
  // Entries inside a leader's snapshot count as held.
  raft::MemoryStorage compacted = log_with_terms({1, 1, 2});
  REQUIRE(compacted.compact(2) == raft::Status::kOk);
  CHECK_FALSE(c.on_leader(3, 6, compacted));
  CHECK(c.check_leader_has(1, 7, log_with_terms({1}), 2));
  CHECK_FALSE(c.check_leader_has(1, 7, log_with_terms({1, 1}), 2));
}

// Raft's figure 8: an entry of term 2 is committed by the leader of term 4;
// the leader of term 3, elected before that (and still leading, say
// paused), never had it, and need not: Leader Completeness binds the
// leaders of terms after the commit. A leader of term 5 must hold it.
TEST_CASE("leader completeness: a leader overtaken before the commit need not hold the entry", "[safety]") {
  SafetyChecker c;
  CHECK_FALSE(c.on_leader(1, 2, log_with_terms({1})));
  CHECK_FALSE(c.on_leader(5, 3, log_with_terms({1, 3})));
  CHECK_FALSE(c.on_leader(1, 4, log_with_terms({1, 2})));
  CHECK_FALSE(c.on_committed(1, entry(2, 2, "e2")));  // known committed once term 4 leads
  CHECK_FALSE(c.check_leader_has(5, 3, log_with_terms({1, 3}), 2));
  CHECK_FALSE(c.on_leader(2, 5, log_with_terms({1, 2})));
  auto missing = c.on_leader(5, 6, log_with_terms({1, 3}));
  REQUIRE(missing);
  CHECK(missing->property == "leader completeness");
  CHECK(c.check_leader_has(5, 7, log_with_terms({1, 3}), 2));
}

TEST_CASE("committed and applied entries agree across nodes", "[safety]") {
  SafetyChecker c;
  CHECK_FALSE(c.on_committed(1, entry(1, 1, "a")));
  CHECK_FALSE(c.on_committed(2, entry(1, 1, "a")));
  auto v = c.on_committed(3, entry(1, 1, "b"));
  REQUIRE(v);
  CHECK(v->property == "log matching");

  CHECK_FALSE(c.on_apply(1, 0, entry(1, 1, "a")));
  CHECK_FALSE(c.on_apply(2, 0, entry(1, 1, "a")));
  auto diff = c.on_apply(3, 0, entry(1, 2, "a"));
  REQUIRE(diff);
  CHECK(diff->property == "state machine safety");
  auto gap = c.on_apply(1, 1, entry(3, 1, "c"));
  REQUIRE(gap);
  CHECK(gap->property == "state machine safety");
}

TEST_CASE("log matching across logs and against committed entries", "[safety]") {
  SafetyChecker c;
  // Logs that agree, then diverge after a common prefix: fine.
  raft::MemoryStorage a = log_with_terms({1, 1, 2, 2});
  raft::MemoryStorage b = log_with_terms({1, 1, 3});
  CHECK_FALSE(c.check_logs({{1, &a}, {2, &b}}));
  // Same index and term at 3, different entry at 2: a violation.
  raft::MemoryStorage x;
  REQUIRE(x.append({entry(1, 1, "e1"), entry(2, 1, "other"), entry(3, 2, "e3")}) == raft::Status::kOk);
  raft::MemoryStorage y;
  REQUIRE(y.append({entry(1, 1, "e1"), entry(2, 1, "e2"), entry(3, 2, "e3")}) == raft::Status::kOk);
  auto v = c.check_logs({{1, &x}, {2, &y}});
  REQUIRE(v);
  CHECK(v->property == "log matching");
  // A committed prefix that disagrees with what is known committed.
  CHECK_FALSE(c.on_committed(1, entry(1, 1, "e1")));
  CHECK_FALSE(c.on_committed(1, entry(2, 1, "e2")));
  raft::MemoryStorage bad = log_with_terms({1, 5}, 2);
  auto w = c.check_logs({{3, &bad}});
  REQUIRE(w);
  CHECK(w->property == "log matching");
  raft::MemoryStorage uncommitted = log_with_terms({1, 5}, 1);
  CHECK_FALSE(c.check_logs({{3, &uncommitted}}));
}

}  // namespace
}  // namespace corral::sim
