// The assignment engine's rules, one scenario each (engine.h has the rules).
#include "coordinator/assign/engine.h"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace corral::assign {
namespace {

using Changes = std::vector<AssignmentChange>;

std::string task_name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "app/log/10.0.0.%03d", i);
  return name;
}

Placement active(const CollectorId& owner) { return Placement{owner, TaskState::kActive, {}}; }

Placement revoking(const CollectorId& owner, const CollectorId& target) {
  return Placement{owner, TaskState::kRevoking, target};
}

Changes finish(Engine& engine) {
  Changes changes = engine.finish();
  INFO(engine.check_invariants());
  REQUIRE(engine.check_invariants().empty());
  return changes;
}

void add_streams(Engine& engine, int from, int to, const std::string& zone = {}) {
  for (int i = from; i < to; ++i) engine.upsert_stream(task_name(i), zone);
}

// Where the task counts: its target while revoking, else its owner.
std::string counted_at(const Engine& engine, const TaskId& task) {
  auto p = engine.placement(task);
  if (!p) return {};
  return p->state == TaskState::kRevoking ? p->target : p->owner;
}

std::map<CollectorId, int64_t> load_by_id(const Engine& engine) {
  std::map<CollectorId, int64_t> out;
  for (const CollectorLoad& l : engine.loads()) out[l.id] = l.load;
  return out;
}

std::vector<TaskId> tasks_of(const Engine& engine, const CollectorId& id, int streams) {
  std::vector<TaskId> out;
  for (int i = 0; i < streams; ++i) {
    if (engine.placement(task_name(i))->owner == id) out.push_back(task_name(i));
  }
  return out;
}

// Releases every revoking task, as the owners would after their last batch.
void release_all(Engine& engine, int streams) {
  for (int i = 0; i < streams; ++i) {
    auto p = engine.placement(task_name(i));
    if (p && p->state == TaskState::kRevoking) engine.released(task_name(i), p->owner);
  }
  finish(engine);
}

TEST_CASE("placement: a new stream goes to the least-loaded collector, ties by id") {
  Engine engine;
  engine.upsert_collector("c2", {});
  engine.upsert_collector("c1", {});
  engine.upsert_stream(task_name(0), "");
  Changes changes = finish(engine);
  REQUIRE(changes == Changes{{task_name(0), std::nullopt, active("c1")}});
  engine.upsert_stream(task_name(1), "");
  changes = finish(engine);
  REQUIRE(changes == Changes{{task_name(1), std::nullopt, active("c2")}});
}

TEST_CASE("placement: only the new stream is placed") {
  Engine engine;
  for (const char* id : {"c1", "c2", "c3"}) engine.upsert_collector(id, {});
  add_streams(engine, 0, 30);
  REQUIRE(finish(engine).size() == 30);
  engine.upsert_stream(task_name(30), "");
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 1);
  REQUIRE(changes[0].task == task_name(30));
}

TEST_CASE("capacity: shares are proportional to capacity") {
  Engine engine(EngineOptions{0});
  engine.upsert_collector("small", {1, ""});
  engine.upsert_collector("big", {3, ""});
  add_streams(engine, 0, 40);
  finish(engine);
  auto loads = load_by_id(engine);
  REQUIRE(loads["small"] == 10);
  REQUIRE(loads["big"] == 30);
  REQUIRE(engine.bound_of("small") == 10);
  REQUIRE(engine.bound_of("big") == 30);
}

TEST_CASE("bound: ceil(T * cap * (1000 + slack) / (C * 1000)) in exact arithmetic") {
  Engine engine(EngineOptions{250});
  engine.upsert_collector("a", {kMaxCapacity, ""});
  engine.upsert_collector("b", {1, ""});
  add_streams(engine, 0, 7);
  finish(engine);
  // a: ceil(7 * 10^6 * 1250 / ((10^6 + 1) * 1000)) = ceil(8.74999...) = 9
  REQUIRE(engine.bound_of("a") == 9);
  // b: ceil(7 * 1250 / ((10^6 + 1) * 1000)) = 1
  REQUIRE(engine.bound_of("b") == 1);
  REQUIRE(engine.bound_of("nobody") == 0);
}

TEST_CASE("leave: only the dead collector's tasks move, at once, to the least loaded") {
  Engine engine;
  for (const char* id : {"c1", "c2", "c3"}) engine.upsert_collector(id, {});
  add_streams(engine, 0, 30);
  finish(engine);
  const std::vector<TaskId> orphans = tasks_of(engine, "c2", 30);
  REQUIRE(orphans.size() == 10);
  engine.remove_collector("c2");
  Changes changes = finish(engine);
  REQUIRE(changes.size() == orphans.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    REQUIRE(changes[i].task == orphans[i]);
    REQUIRE(changes[i].stored == active("c2"));
    REQUIRE(changes[i].wanted->state == TaskState::kActive);
    REQUIRE(changes[i].wanted->owner != "c2");
  }
  auto loads = load_by_id(engine);
  REQUIRE(loads["c1"] == 15);
  REQUIRE(loads["c3"] == 15);
}

TEST_CASE("join: takes what it needs to reach its floor share, cooperatively") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 20);
  finish(engine);
  engine.upsert_collector("c3", {});
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 6);  // floor(20 / 3)
  for (const AssignmentChange& change : changes) {
    REQUIRE(change.stored->state == TaskState::kActive);
    REQUIRE(change.wanted == revoking(change.stored->owner, "c3"));
  }
  auto loads = load_by_id(engine);
  REQUIRE(loads["c3"] == 6);
  REQUIRE(loads["c1"] + loads["c2"] == 14);
  REQUIRE(tasks_of(engine, "c3", 20).empty());  // nothing moved before the releases
}

TEST_CASE("join: takes only from collectors above their share") {
  Engine engine(EngineOptions{1000});  // a loose bound lets zones skew the loads
  engine.upsert_collector("c1", {1, "a"});
  engine.upsert_collector("c2", {1, "b"});
  finish(engine);
  add_streams(engine, 0, 7, "a");
  add_streams(engine, 7, 10, "b");
  finish(engine);
  REQUIRE(load_by_id(engine)["c1"] == 7);
  engine.upsert_collector("c3", {});  // share 10/3: c1 is above, c2 (3) is not
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 3);
  for (const AssignmentChange& change : changes) REQUIRE(change.wanted == revoking("c1", "c3"));
}

TEST_CASE("join: a joiner whose share rounds down to zero takes nothing") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 2);
  finish(engine);
  engine.upsert_collector("c3", {});
  REQUIRE(finish(engine).empty());
}

TEST_CASE("release: a revoking task becomes active at its target under a new key") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 4);
  finish(engine);
  engine.upsert_collector("c2", {});
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 2);
  const TaskId moving = changes[0].task;
  engine.released(moving, "c1");
  changes = finish(engine);
  REQUIRE(changes == Changes{{moving, std::nullopt, active("c2")}});
}

TEST_CASE("release: an active task is placed afresh, its key created again") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 1);
  finish(engine);
  engine.released(task_name(0), "c1");
  REQUIRE(finish(engine) == Changes{{task_name(0), std::nullopt, active("c1")}});
}

TEST_CASE("release: a key of a collector that does not own the task is ignored") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 1);
  finish(engine);
  engine.released(task_name(0), "c2");
  engine.released(task_name(9), "c1");
  REQUIRE(finish(engine).empty());
  REQUIRE(engine.placement(task_name(0)) == active("c1"));
}

TEST_CASE("release after the owner died in the same revision: only its key goes") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 1);
  finish(engine);
  engine.remove_collector("c1");
  engine.released(task_name(0), "c1");
  REQUIRE(finish(engine) == Changes{{task_name(0), std::nullopt, active("c2")}});
}

TEST_CASE("release of a key given in the same revision is stale: ignored") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 1);
  engine.released(task_name(0), "c1");  // c1 holds no key yet
  REQUIRE(finish(engine) == Changes{{task_name(0), std::nullopt, active("c1")}});
}

TEST_CASE("revoking target dies: the task stays with its owner") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 4);
  finish(engine);
  engine.upsert_collector("c2", {});
  Changes joined = finish(engine);
  REQUIRE(joined.size() == 2);
  engine.remove_collector("c2");
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 2);
  for (const AssignmentChange& change : changes) {
    REQUIRE(change.stored == revoking("c1", "c2"));
    REQUIRE(change.wanted == active("c1"));
  }
}

TEST_CASE("revoking target dies: the task is re-targeted when its owner cannot keep it") {
  Engine engine(EngineOptions{0});
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 8);  // 4 + 4
  finish(engine);
  engine.set_draining("c1", true);  // c1's 4 revoke to c2
  finish(engine);
  engine.set_draining("c1", false);
  engine.upsert_collector("c3", {});
  finish(engine);
  engine.set_draining("c1", true);
  engine.remove_collector("c3");
  finish(engine);
  for (int i = 0; i < 8; ++i) REQUIRE(counted_at(engine, task_name(i)) == "c2");
}

TEST_CASE("owner dies while revoking: the task goes to its target at once") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 4);
  finish(engine);
  engine.upsert_collector("c2", {});
  Changes joined = finish(engine);
  engine.remove_collector("c1");
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 4);
  for (const AssignmentChange& change : changes) REQUIRE(change.wanted == active("c2"));
  REQUIRE(changes[0].stored->owner == "c1");
}

TEST_CASE("drain: every task revokes to others and no new task comes in") {
  Engine engine;
  for (const char* id : {"c1", "c2", "c3"}) engine.upsert_collector(id, {});
  add_streams(engine, 0, 30);
  finish(engine);
  engine.set_draining("c1", true);
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 10);
  for (const AssignmentChange& change : changes) {
    REQUIRE(change.stored == active("c1"));
    REQUIRE(change.wanted->owner == "c1");
    REQUIRE(change.wanted->state == TaskState::kRevoking);
  }
  REQUIRE(engine.bound_of("c1") == 0);
  add_streams(engine, 30, 40);
  finish(engine);
  for (int i = 30; i < 40; ++i) REQUIRE(engine.placement(task_name(i))->owner != "c1");
  release_all(engine, 40);
  REQUIRE(tasks_of(engine, "c1", 40).empty());
}

TEST_CASE("drain: the only collector keeps its tasks until another one comes") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 3);
  finish(engine);
  engine.set_draining("c1", true);
  REQUIRE(finish(engine).empty());
  add_streams(engine, 3, 4);  // waits: no collector may take it
  REQUIRE(finish(engine).empty());
  REQUIRE_FALSE(engine.placement(task_name(3)));
  engine.upsert_collector("c2", {});
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 4);
  for (int i = 0; i < 3; ++i) REQUIRE(engine.placement(task_name(i)) == revoking("c1", "c2"));
  REQUIRE(engine.placement(task_name(3)) == active("c2"));
}

TEST_CASE("drain: a drain key for an unknown id applies when it joins") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.set_draining("c2", true);
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 5);
  finish(engine);
  REQUIRE(load_by_id(engine)["c2"] == 0);
  REQUIRE(load_by_id(engine)["c1"] == 5);
}

TEST_CASE("drain then undrain in one revision changes nothing") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 10);
  finish(engine);
  engine.set_draining("c1", true);
  engine.set_draining("c1", false);
  REQUIRE(finish(engine).empty());
}

TEST_CASE("undrain: nothing moves back beyond its share, taken from those above theirs") {
  Engine engine;
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 10);
  finish(engine);
  engine.set_draining("c1", true);
  finish(engine);
  release_all(engine, 10);
  REQUIRE(load_by_id(engine)["c2"] == 10);
  engine.set_draining("c1", false);
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 5);
  for (const AssignmentChange& change : changes) REQUIRE(change.wanted == revoking("c2", "c1"));
}

TEST_CASE("zone: a stream goes to its zone's least-loaded collector while within bound") {
  Engine engine(EngineOptions{0});
  engine.upsert_collector("a1", {1, "a"});
  engine.upsert_collector("b1", {1, "b"});
  engine.upsert_collector("b2", {1, "b"});
  add_streams(engine, 0, 2, "a");
  add_streams(engine, 2, 3, "b");
  finish(engine);
  // T = 3, bounds 1 each: the second "a" stream cannot fit at a1.
  REQUIRE(engine.placement(task_name(0)) == active("a1"));
  REQUIRE(engine.placement(task_name(1))->owner != "a1");
  REQUIRE(engine.placement(task_name(2))->owner != "a1");
}

TEST_CASE("zone: within bound, the zone wins over a less loaded collector elsewhere") {
  Engine engine;  // slack 25%
  engine.upsert_collector("a1", {1, "a"});
  engine.upsert_collector("b1", {1, "b"});
  finish(engine);
  add_streams(engine, 0, 4, "a");  // a1 takes 3 (bound ceil(4 * 1.25 / 2) = 3), b1 1
  finish(engine);
  auto loads = load_by_id(engine);
  REQUIRE(loads["a1"] == 3);
  REQUIRE(loads["b1"] == 1);
}

TEST_CASE("zone: a stream whose zone changes stays put") {
  Engine engine;
  engine.upsert_collector("a1", {1, "a"});
  engine.upsert_collector("b1", {1, "b"});
  add_streams(engine, 0, 1, "a");
  finish(engine);
  engine.upsert_stream(task_name(0), "b");
  REQUIRE(finish(engine).empty());
  REQUIRE(engine.placement(task_name(0)) == active("a1"));
}

TEST_CASE("join with new streams in one revision: tasks without a key move directly") {
  Engine engine;
  engine.upsert_collector("a1", {1, "a"});
  engine.upsert_collector("b1", {1, "b"});
  add_streams(engine, 0, 4, "a");
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 4);
  for (const AssignmentChange& change : changes) {
    REQUIRE_FALSE(change.stored);
    REQUIRE(change.wanted->state == TaskState::kActive);
  }
  auto loads = load_by_id(engine);
  REQUIRE(loads["a1"] == 2);
  REQUIRE(loads["b1"] == 2);
}

TEST_CASE("no collectors: streams wait, the first collector takes them all") {
  Engine engine;
  add_streams(engine, 0, 5);
  REQUIRE(finish(engine).empty());
  engine.upsert_collector("c1", {});
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 5);
  for (const AssignmentChange& change : changes) REQUIRE(change.wanted == active("c1"));
  engine.remove_collector("c1");
  changes = finish(engine);
  REQUIRE(changes.size() == 5);
  for (const AssignmentChange& change : changes) REQUIRE_FALSE(change.wanted);
}

TEST_CASE("stream removed: its assignment goes with it") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 2);
  finish(engine);
  engine.remove_stream(task_name(0));
  REQUIRE(finish(engine) == Changes{{task_name(0), active("c1"), std::nullopt}});
  REQUIRE(engine.stream_count() == 1);
}

TEST_CASE("stream removed and added in one revision: a change only if it moved") {
  Engine engine;
  engine.upsert_collector("c1", {});
  add_streams(engine, 0, 1);
  finish(engine);
  engine.remove_stream(task_name(0));
  engine.upsert_stream(task_name(0), "");
  REQUIRE(finish(engine).empty());
}

TEST_CASE("bounds shrink: fewer streams move tasks off collectors above their bound") {
  Engine engine(EngineOptions{0});
  engine.upsert_collector("c1", {});
  engine.upsert_collector("c2", {});
  add_streams(engine, 0, 20);
  finish(engine);
  const std::vector<TaskId> of_c2 = tasks_of(engine, "c2", 20);
  for (int i = 0; i < 8; ++i) engine.remove_stream(of_c2[i]);
  Changes changes = finish(engine);
  int moved = 0;
  for (const AssignmentChange& change : changes) {
    if (change.wanted) {
      REQUIRE(change.wanted == revoking("c1", "c2"));
      ++moved;
    }
  }
  REQUIRE(moved == 4);  // c1 held 10, its bound is now 6
}

TEST_CASE("capacity grows: the grown collector takes its share") {
  Engine engine(EngineOptions{0});
  engine.upsert_collector("c1", {1, ""});
  engine.upsert_collector("c2", {1, ""});
  add_streams(engine, 0, 20);
  finish(engine);
  engine.upsert_collector("c2", {3, ""});
  finish(engine);
  auto loads = load_by_id(engine);
  REQUIRE(loads["c1"] == 5);
  REQUIRE(loads["c2"] == 15);
}

TEST_CASE("rebalance: moves from the most to the least loaded until shares hold") {
  Engine engine(EngineOptions{1000});  // a loose bound lets placement skew
  engine.upsert_collector("a1", {1, "a"});
  engine.upsert_collector("b1", {1, "b"});
  finish(engine);
  add_streams(engine, 0, 12, "a");
  finish(engine);
  REQUIRE(load_by_id(engine)["a1"] == 12);  // zone preference up to the bound
  engine.rebalance();
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 6);
  for (const AssignmentChange& change : changes) REQUIRE(change.wanted == revoking("a1", "b1"));
  auto loads = load_by_id(engine);
  REQUIRE(loads["a1"] == 6);
  REQUIRE(loads["b1"] == 6);
  engine.rebalance();
  REQUIRE(finish(engine).empty());
}

TEST_CASE("restore: rebuilds without changes, the next finish repairs broken rules") {
  Engine engine;
  engine.restore_collector("c1", {});
  engine.restore_collector("c2", {});
  for (int i = 0; i < 4; ++i) engine.restore_stream(task_name(i), "");
  engine.restore_assignment(task_name(0), active("c1"));
  engine.restore_assignment(task_name(1), revoking("c1", "c2"));
  engine.restore_assignment(task_name(2), active("gone"));
  engine.restore_assignment(task_name(3), revoking("c2", "gone"));
  engine.restore_assignment(task_name(9), active("c1"));  // no such stream
  engine.finish_restore();
  Changes changes = finish(engine);
  REQUIRE(changes.size() == 3);
  REQUIRE(changes[0].task == task_name(2));
  REQUIRE(changes[0].wanted->owner != "gone");
  REQUIRE(changes[1] == AssignmentChange{task_name(3), revoking("c2", "gone"), active("c2")});
  REQUIRE(changes[2] == AssignmentChange{task_name(9), active("c1"), std::nullopt});
  REQUIRE(engine.placement(task_name(1)) == revoking("c1", "c2"));
}

TEST_CASE("restore: a draining owner's tasks revoke away at the next finish") {
  Engine engine;
  engine.restore_collector("c1", {});
  engine.restore_collector("c2", {});
  engine.restore_draining("c1");
  engine.restore_draining("c9");  // not a collector (yet)
  engine.restore_stream(task_name(0), "");
  engine.restore_assignment(task_name(0), active("c1"));
  engine.finish_restore();
  REQUIRE(finish(engine) == Changes{{task_name(0), active("c1"), revoking("c1", "c2")}});
  engine.upsert_collector("c9", {});
  add_streams(engine, 1, 2);
  finish(engine);
  REQUIRE(engine.placement(task_name(1)) == active("c2"));
}

TEST_CASE("determinism: two engines fed the same calls give identical change lists") {
  std::mt19937_64 rng(20261130);
  Engine first, second;
  const auto both = [&](auto&& call) {
    call(first);
    call(second);
  };
  for (int step = 0; step < 2000; ++step) {
    const std::string collector = "c" + std::to_string(rng() % 12);
    const std::string zone = std::string(1, static_cast<char>('a' + rng() % 3));
    const CollectorSpec spec{static_cast<int64_t>(1 + rng() % 4), zone};
    const TaskId task = task_name(static_cast<int>(rng() % 200));
    const bool drain = rng() % 2 == 0;
    const auto placed = first.placement(task);
    switch (rng() % 7) {
      case 0: both([&](Engine& e) { e.upsert_collector(collector, spec); }); break;
      case 1: both([&](Engine& e) { e.remove_collector(collector); }); break;
      case 2: both([&](Engine& e) { e.set_draining(collector, drain); }); break;
      case 3: both([&](Engine& e) { e.upsert_stream(task, zone); }); break;
      case 4: both([&](Engine& e) { e.remove_stream(task); }); break;
      case 5:
        if (placed) both([&](Engine& e) { e.released(task, placed->owner); });
        break;
      default: both([&](Engine& e) { e.rebalance(); }); break;
    }
    REQUIRE(finish(first) == finish(second));
  }
}

}  // namespace
}  // namespace corral::assign

TEST_CASE("undrain: the collector's own moves away are called off before it takes anything", "[assign][drain]") {
  using namespace corral::assign;
  Engine e;
  e.upsert_collector("c1", {1, ""});
  for (int i = 0; i < 6; ++i) e.upsert_stream("a/t/" + std::to_string(i), "");
  (void)e.finish();
  e.upsert_collector("c2", {1, ""});
  // c2 takes 3, cooperatively; c1 releases them and c2 collects them.
  for (const auto& c : e.finish()) {
    REQUIRE(c.wanted);
    e.released(c.task, "c1");
  }
  (void)e.finish();
  e.set_draining("c1", true);
  (void)e.finish();  // c1's other 3 revoke to c2 as well
  e.set_draining("c1", false);
  auto changes = e.finish();
  // c1 keeps what it still owns (its 3 tasks revoking away turn active
  // again); nothing of c2's moves back the other way.
  int revoking_from_c2 = 0, active_at_c1 = 0;
  for (int i = 0; i < 6; ++i) {
    auto p = e.placement("a/t/" + std::to_string(i));
    REQUIRE(p);
    revoking_from_c2 += p->owner == "c2" && p->state == TaskState::kRevoking;
    active_at_c1 += p->owner == "c1" && p->state == TaskState::kActive;
  }
  CHECK(revoking_from_c2 == 0);
  CHECK(active_at_c1 == 3);
  CHECK(e.check_invariants().empty());
  for (const auto& c : changes) {
    REQUIRE(c.wanted);
    CHECK(c.wanted->owner == "c1");
    CHECK(c.wanted->state == TaskState::kActive);
  }
}
