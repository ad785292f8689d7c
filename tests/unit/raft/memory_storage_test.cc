#include <catch2/catch.hpp>

#include "coordinator/raft/memory_storage.h"

using namespace corral::raft;

namespace {

std::vector<Entry> ents(Index from, Index to, Term term) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) out.push_back(Entry{term, i, EntryType::kNormal, std::string(10, 'x')});
  return out;
}

}  // namespace

TEST_CASE("memory storage: empty log has a dummy entry at 0", "[memory_storage]") {
  MemoryStorage s;
  CHECK(s.first_index() == 1);
  CHECK(s.last_index() == 0);
  CHECK(s.term(0).value() == 0);
  CHECK(s.term(1).status() == Status::kUnavailable);
  CHECK(s.entries(1, 1, 100).value().empty());
  CHECK(s.snapshot().value().empty());
}

TEST_CASE("memory storage: append, conflicting suffix truncated, gaps refused", "[memory_storage]") {
  MemoryStorage s;
  REQUIRE(s.append(ents(1, 5, 1)) == Status::kOk);
  CHECK(s.last_index() == 5);
  REQUIRE(s.append(ents(4, 6, 2)) == Status::kOk);
  CHECK(s.last_index() == 6);
  CHECK(s.term(3).value() == 1);
  CHECK(s.term(4).value() == 2);
  CHECK(s.append(ents(9, 10, 2)) == Status::kUnavailable);
  CHECK(s.last_index() == 6);
  std::vector<Entry> holes{Entry{2, 7}, Entry{2, 9}};
  CHECK(s.append(holes) == Status::kUnavailable);
  CHECK(s.last_index() == 6);
}

TEST_CASE("memory storage: entries honour max_bytes but return at least one", "[memory_storage]") {
  MemoryStorage s;
  REQUIRE(s.append(ents(1, 5, 1)) == Status::kOk);
  CHECK(s.entries(1, 6, 1000).value().size() == 5);
  CHECK(s.entries(1, 6, 25).value().size() == 2);
  CHECK(s.entries(1, 6, 0).value().size() == 1);
  CHECK(s.entries(2, 7, 1000).status() == Status::kUnavailable);
}

TEST_CASE("memory storage: compact and snapshots", "[memory_storage]") {
  MemoryStorage s;
  REQUIRE(s.append(ents(1, 10, 3)) == Status::kOk);
  const ConfState cs{{1, 2, 3}, {}};
  auto snap = s.create_snapshot(6, cs, "img");
  REQUIRE(snap.ok());
  CHECK(snap.value().metadata.index == 6);
  CHECK(snap.value().metadata.term == 3);
  CHECK(s.create_snapshot(5, cs, "old").status() == Status::kCompacted);
  CHECK(s.create_snapshot(11, cs, "future").status() == Status::kUnavailable);
  REQUIRE(s.compact(6) == Status::kOk);
  CHECK(s.first_index() == 7);
  CHECK(s.term(6).value() == 3);
  CHECK(s.term(5).status() == Status::kCompacted);
  CHECK(s.entries(6, 8, 100).status() == Status::kCompacted);
  CHECK(s.entries(7, 8, 100).value().size() == 1);
  CHECK(s.compact(6) == Status::kCompacted);
  CHECK(s.compact(20) == Status::kUnavailable);
  CHECK(s.initial_state().conf_state == cs);
  // Appending entries that are partly compacted keeps the rest.
  REQUIRE(s.append(ents(5, 12, 4)) == Status::kOk);
  CHECK(s.first_index() == 7);
  CHECK(s.last_index() == 12);
  CHECK(s.term(7).value() == 4);
}

TEST_CASE("memory storage: apply_snapshot replaces the log, older ones are refused", "[memory_storage]") {
  MemoryStorage s;
  REQUIRE(s.append(ents(1, 3, 1)) == Status::kOk);
  Snapshot snap;
  snap.metadata.index = 20;
  snap.metadata.term = 4;
  snap.metadata.conf_state = ConfState{{1}, {2}};
  snap.data = "img";
  REQUIRE(s.apply_snapshot(snap) == Status::kOk);
  CHECK(s.first_index() == 21);
  CHECK(s.last_index() == 20);
  CHECK(s.term(20).value() == 4);
  CHECK(s.snapshot().value() == snap);
  snap.metadata.index = 10;
  CHECK(s.apply_snapshot(snap) == Status::kCompacted);
  CHECK(s.first_index() == 21);
}

TEST_CASE("memory storage: copies are independent (crash modelling)", "[memory_storage]") {
  MemoryStorage s;
  REQUIRE(s.append(ents(1, 3, 1)) == Status::kOk);
  s.set_hard_state(HardState{1, 1, 2});
  MemoryStorage copy(s);
  REQUIRE(s.append(ents(4, 6, 1)) == Status::kOk);
  s.set_hard_state(HardState{2, 2, 5});
  CHECK(copy.last_index() == 3);
  CHECK(copy.initial_state().hard_state == HardState{1, 1, 2});
  CHECK(s.last_index() == 6);
}
