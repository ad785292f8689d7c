// The assignment engine: which live collector collects each stream (task).
//
// Pure and deterministic: no clock, no randomness, ordered containers only,
// a function of the calls made to it. Apply feeds it the changes of one
// revision (collectors and streams that came, went or changed, releases,
// operator requests), then calls finish(), which returns every task whose
// assignment differs from what the key space holds, and apply writes those
// keys in the same revision. Every member makes the same calls in the same
// order, so every member writes byte-identical assignments.
//
// Rules (schema/records.md has the key space side):
//  - every stream is assigned to exactly one live, non-draining collector
//    whenever one exists, and to none otherwise;
//  - bounded load: a collector's load (tasks it owns or is about to get) is
//    at most bound(c) = ceil(T * capacity(c) / C * (1 + slack)), T the
//    number of streams, C the total capacity of live non-draining collectors;
//  - stickiness: a new stream is placed alone; a dead collector's tasks move
//    and nothing else; a new collector takes tasks only from collectors above
//    their bound or their share, no more than it needs; every other task
//    keeps its owner and its epoch;
//  - zone-aware: a stream with a zone goes to the least-loaded collector of
//    that zone while that collector stays within its bound;
//  - a move away from a live owner (drain, rebalance, a new collector taking
//    its share, a bound that shrank) is cooperative: the task is marked
//    revoking with its target, counted in the target's load at once, and
//    moves when the owner releases it (KIP-848). A dead owner's tasks move at
//    once.
//
// Cost: placing or moving one task is O(log N) (N collectors); a finish()
// after a change that can shrink bounds (fewer streams, more capacity)
// checks every collector once, O(N).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace corral::assign {

using TaskId = std::string;       // "<app>/<topic>/<machine-ip>"
using CollectorId = std::string;  // the collector's agent id

inline constexpr int64_t kDefaultLoadSlackPermille = 250;  // the bound's (1 + 0.25)
inline constexpr int64_t kMaxCapacity = 1000000;

struct EngineOptions {
  // The bound's slack, in thousandths: 250 = 25% above the exact share.
  int64_t load_slack_permille = kDefaultLoadSlackPermille;
};

struct CollectorSpec {
  int64_t capacity = 1;  // 1..kMaxCapacity
  std::string zone;      // empty: none
  bool operator==(const CollectorSpec&) const = default;
};

enum class TaskState : uint8_t { kActive, kRevoking };

// Where a task stands: its owner collects it; while revoking, `target` gets
// it once the owner releases it.
struct Placement {
  CollectorId owner;
  TaskState state = TaskState::kActive;
  CollectorId target;  // set iff kRevoking
  bool operator==(const Placement&) const = default;
};

// One task whose assignment key(s) apply must rewrite. `stored` is what the
// key space holds (none: no assignment key), `wanted` what it must hold.
// stored->owner != wanted->owner: delete the old owner's key and create the
// new owner's (a new epoch); same owner: rewrite the value (same epoch); a
// released task has stored = none, so its key is created again.
struct AssignmentChange {
  TaskId task;
  std::optional<Placement> stored;
  std::optional<Placement> wanted;
  bool operator==(const AssignmentChange&) const = default;
};

// Per-collector figures, for tests, corralctl and the benchmark.
struct CollectorLoad {
  CollectorId id;
  CollectorSpec spec;
  bool draining = false;
  int64_t owned = 0;     // tasks whose owner it is (active or revoking away)
  int64_t load = 0;      // tasks counted against its bound: owned - revoking away + revoking to it
  int64_t bound = 0;     // bound(c) now (0 while draining)
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- the changes of one revision, in the order apply saw them ---
  // A collector joined or its record changed (capacity, zone).
  void upsert_collector(const CollectorId& id, const CollectorSpec& spec);
  // A collector's record is gone (lease expiry, revoke, delete, role
  // dropped): its tasks move at once; tasks revoking to it stay with their owner.
  void remove_collector(const CollectorId& id);
  // /corral/drain/<id> appeared or went. Draining is remembered for an id
  // that is not (yet) a collector.
  void set_draining(const CollectorId& id, bool draining);
  // A stream appeared (placed) or changed zone (stays put).
  void upsert_stream(const TaskId& task, const std::string& zone);
  // A stream is gone: its assignment goes with it.
  void remove_stream(const TaskId& task);
  // The assignment key of `task` held by `owner` was deleted by a client (a
  // release). A revoking task moves to its target; an active one is placed
  // afresh. Ignored when `owner` does not own `task` (a stale key). The
  // leader's forced release (timeout) is a delete too, so it comes here.
  void released(const TaskId& task, const CollectorId& owner);
  // /corral/rebalance: one balancing pass (cooperative moves) in finish().
  void rebalance();

  // Ends the revision: enforces the bounds, runs a requested rebalance and
  // returns every task whose stored assignment differs from the wanted one,
  // sorted by task. Afterwards the engine takes the wanted state as stored.
  std::vector<AssignmentChange> finish();

  // --- recovery: the state as the key space holds it, without moving
  // anything (a member restarting or installing a snapshot). Call these,
  // then finish_restore(); the next finish() may move tasks if the stored
  // state broke a rule.
  void restore_collector(const CollectorId& id, const CollectorSpec& spec);
  void restore_draining(const CollectorId& id);
  void restore_stream(const TaskId& task, const std::string& zone);
  void restore_assignment(const TaskId& task, const Placement& placement);
  void finish_restore();

  // --- reads ---
  std::optional<Placement> placement(const TaskId& task) const;
  std::vector<CollectorLoad> loads() const;  // sorted by id
  size_t stream_count() const;
  size_t collector_count() const;  // live, draining or not
  int64_t bound_of(const CollectorId& id) const;  // 0 for none or draining
  // Every rule above that can be checked on a state, for tests: empty when
  // all hold, else what broke.
  std::string check_invariants() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace corral::assign
