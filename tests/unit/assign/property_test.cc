// Long seeded random sequences against the assignment engine. After every
// finish() the test checks, with its own arithmetic and its own copy of the
// key space (written only from the returned changes):
//  - check_invariants() is empty;
//  - the changes are sorted, each `stored` is what the key space holds, and
//    afterwards the key space equals the engine's placements;
//  - every stream is assigned when a live non-draining collector exists, and
//    no load is above ceil(T * cap * (1000 + slack) / (C * 1000));
//  - minimal movement: a step moves no more than it has to (per operation
//    below). A task "moves" when the collector it counts at (its target
//    while revoking, else its owner) changes.
// Every so often the engine is replaced by one restored from the key space,
// which must agree with it and have nothing to change.
#include "coordinator/assign/engine.h"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace corral::assign {
namespace {

constexpr int kStepsPerSeed = 5000;
constexpr int kRestoreEvery = 997;  // steps
constexpr int kMaxStreams = 400;
constexpr int kMaxCollectors = 24;

enum class Op {
  kJoin, kLeave, kResize, kDrain, kUndrain, kAddStream, kRemoveStream,
  kReleaseRevoking, kReleaseActive, kRebalance, kRezone, kBatch,
};

const char* op_name(Op op) {
  static const char* const kNames[] = {"join", "leave", "resize", "drain", "undrain", "add-stream",
                                       "remove-stream", "release-revoking", "release-active",
                                       "rebalance", "rezone", "batch"};
  return kNames[static_cast<int>(op)];
}

// What the engine was told, and the assignment keys its changes wrote.
struct Model {
  int64_t slack_permille = kDefaultLoadSlackPermille;
  std::map<CollectorId, CollectorSpec> collectors;
  std::set<CollectorId> drain_keys;
  std::map<TaskId, std::string> streams;
  std::map<TaskId, Placement> keys;

  bool available(const CollectorId& id) const {
    return collectors.count(id) > 0 && drain_keys.count(id) == 0;
  }
  int64_t total_capacity() const {
    int64_t total = 0;
    for (const auto& [id, spec] : collectors) total += available(id) ? spec.capacity : 0;
    return total;
  }
  int64_t bound(const CollectorId& id) const {
    const int64_t total = total_capacity();
    if (!available(id) || total == 0) return 0;
    const __int128 numerator = static_cast<__int128>(streams.size()) * collectors.at(id).capacity *
                               (1000 + slack_permille);
    const __int128 denominator = static_cast<__int128>(total) * 1000;
    return static_cast<int64_t>((numerator + denominator - 1) / denominator);
  }
  int64_t floor_share(const CollectorId& id) const {
    const int64_t total = total_capacity();
    if (!available(id) || total == 0) return 0;
    return static_cast<int64_t>(streams.size()) * collectors.at(id).capacity / total;
  }
  // task -> the collector it counts at
  std::map<TaskId, CollectorId> counted() const {
    std::map<TaskId, CollectorId> out;
    for (const auto& [task, p] : keys) out[task] = p.state == TaskState::kRevoking ? p.target : p.owner;
    return out;
  }
  std::map<CollectorId, int64_t> loads() const {
    std::map<CollectorId, int64_t> out;
    for (const auto& [task, id] : counted()) ++out[id];
    return out;
  }
};

int64_t at(const std::map<CollectorId, int64_t>& m, const CollectorId& id) {
  auto it = m.find(id);
  return it == m.end() ? 0 : it->second;
}

// Writes the changes into the model's key space, checking each `stored`.
void apply_changes(Model& model, const std::vector<AssignmentChange>& changes, std::ostream& errors) {
  for (size_t i = 0; i < changes.size(); ++i) {
    const AssignmentChange& change = changes[i];
    if (i > 0 && !(changes[i - 1].task < change.task)) errors << "changes not sorted; ";
    auto key = model.keys.find(change.task);
    const std::optional<Placement> held =
        key == model.keys.end() ? std::nullopt : std::optional<Placement>(key->second);
    if (held != change.stored) errors << change.task << ": stored differs from the key space; ";
    if (change.stored == change.wanted) errors << change.task << ": a change that changes nothing; ";
    if (change.wanted) {
      model.keys[change.task] = *change.wanted;
    } else {
      model.keys.erase(change.task);
    }
  }
}

// The rules that hold after every finish(), computed by the test alone.
void check_state(const Model& model, const Engine& engine, std::ostream& errors) {
  if (std::string broken = engine.check_invariants(); !broken.empty()) errors << "invariants: " << broken;
  const bool any_available = model.total_capacity() > 0;
  for (const auto& [task, zone] : model.streams) {
    auto key = model.keys.find(task);
    const std::optional<Placement> held =
        key == model.keys.end() ? std::nullopt : std::optional<Placement>(key->second);
    if (held != engine.placement(task)) errors << task << ": key space differs from the engine; ";
    if (!held) {
      if (any_available) errors << task << ": unassigned; ";
      continue;
    }
    if (!model.collectors.count(held->owner)) errors << task << ": dead owner; ";
    const CollectorId& counted_at = held->state == TaskState::kRevoking ? held->target : held->owner;
    if (any_available && !model.available(counted_at)) errors << task << ": counted at " << counted_at << "; ";
  }
  for (const auto& [task, p] : model.keys) {
    if (!model.streams.count(task)) errors << task << ": key of a removed stream; ";
  }
  const auto loads = model.loads();
  for (const CollectorLoad& l : engine.loads()) {
    if (l.load != at(loads, l.id)) errors << l.id << ": engine load " << l.load << " != " << at(loads, l.id) << "; ";
    if (l.bound != model.bound(l.id)) errors << l.id << ": engine bound differs; ";
    if (model.available(l.id) && l.load > model.bound(l.id)) errors << l.id << ": above bound; ";
  }
  if (engine.collector_count() != model.collectors.size()) errors << "collector count; ";
  if (engine.stream_count() != model.streams.size()) errors << "stream count; ";
}

// How much a step may move, from the loads before it and the bounds after
// it: the tasks above the new bounds, which must move.
int64_t excess_over_bounds(const Model& after, const std::map<CollectorId, int64_t>& loads_before) {
  int64_t excess = 0;
  for (const auto& [id, spec] : after.collectors) {
    if (after.available(id)) excess += std::max<int64_t>(0, at(loads_before, id) - after.bound(id));
  }
  return excess;
}

class Run {
 public:
  Run(uint64_t seed, int64_t slack)
      : rng_(seed), engine_(std::make_unique<Engine>(EngineOptions{slack})) {
    model_.slack_permille = slack;
  }

  void step(int index) {
    const Op op = pick_op();
    const auto before = model_.counted();
    const auto loads_before = model_.loads();
    std::ostringstream errors;
    std::string subject = run_op(op, errors);
    apply_changes(model_, engine_->finish(), errors);
    check_state(model_, *engine_, errors);
    check_movement(op, subject, before, loads_before, errors);
    if (index % kRestoreEvery == kRestoreEvery - 1) restore(errors);
    INFO("step " << index << " op " << op_name(op) << " " << subject);
    INFO(errors.str());
    REQUIRE(errors.str().empty());
  }

 private:
  uint64_t below(uint64_t n) { return rng_() % n; }

  std::string zone() { return std::vector<std::string>{"", "a", "b", "c"}[below(4)]; }

  template <typename Container>
  std::string any_key(const Container& c) {
    auto it = c.begin();
    std::advance(it, below(c.size()));
    return it->first;
  }

  Op pick_op() {
    if (model_.collectors.size() < 2 && below(2) == 0) return Op::kJoin;
    if (model_.streams.size() < 20) return Op::kAddStream;
    static const Op kWeighted[] = {Op::kJoin, Op::kLeave, Op::kResize, Op::kDrain, Op::kUndrain,
                                   Op::kAddStream, Op::kAddStream, Op::kAddStream, Op::kRemoveStream,
                                   Op::kRemoveStream, Op::kReleaseRevoking, Op::kReleaseRevoking,
                                   Op::kReleaseRevoking, Op::kReleaseActive, Op::kRebalance,
                                   Op::kRezone, Op::kBatch};
    return kWeighted[below(std::size(kWeighted))];
  }

  std::string run_op(Op op, std::ostream& errors) {
    switch (op) {
      case Op::kJoin: return join();
      case Op::kLeave: return model_.collectors.empty() ? "" : leave(any_key(model_.collectors));
      case Op::kResize: return model_.collectors.empty() ? "" : resize(any_key(model_.collectors));
      case Op::kDrain: return drain("c" + std::to_string(below(next_collector_ + 1)), true);
      case Op::kUndrain: return model_.drain_keys.empty() ? "" : drain(*model_.drain_keys.begin(), false);
      case Op::kAddStream: return add_stream();
      case Op::kRemoveStream: return model_.streams.empty() ? "" : remove_stream(any_key(model_.streams));
      case Op::kReleaseRevoking: return release(TaskState::kRevoking);
      case Op::kReleaseActive: return release(TaskState::kActive);
      case Op::kRebalance: engine_->rebalance(); return "";
      case Op::kRezone: return model_.streams.empty() ? "" : rezone(any_key(model_.streams));
      case Op::kBatch: return batch(errors);
    }
    return "";
  }

  std::string join() {
    if (model_.collectors.size() >= kMaxCollectors) return "";
    const CollectorId id = "c" + std::to_string(next_collector_++);
    const CollectorSpec spec{static_cast<int64_t>(1 + below(4)), zone()};
    model_.collectors[id] = spec;
    engine_->upsert_collector(id, spec);
    return id;
  }
  std::string leave(CollectorId id) {
    model_.collectors.erase(id);
    engine_->remove_collector(id);
    return id;
  }
  std::string resize(const CollectorId& id) {
    CollectorSpec spec = model_.collectors[id];
    spec.capacity = static_cast<int64_t>(1 + below(4));
    if (below(4) == 0) spec.zone = zone();
    model_.collectors[id] = spec;
    engine_->upsert_collector(id, spec);
    return id;
  }
  // By value: `id` may name an element of the model that this erases.
  std::string drain(CollectorId id, bool draining) {
    if (draining) {
      model_.drain_keys.insert(id);
    } else {
      model_.drain_keys.erase(id);
    }
    engine_->set_draining(id, draining);
    return id;
  }
  std::string add_stream() {
    if (model_.streams.size() >= kMaxStreams) return "";
    const TaskId task = "app/t" + std::to_string(below(50)) + "/10.0.0." + std::to_string(next_stream_++);
    model_.streams[task] = zone();
    engine_->upsert_stream(task, model_.streams[task]);
    return task;
  }
  std::string remove_stream(TaskId task) {
    model_.streams.erase(task);
    engine_->remove_stream(task);
    return task;
  }
  std::string rezone(const TaskId& task) {
    model_.streams[task] = zone();
    engine_->upsert_stream(task, model_.streams[task]);
    return task;
  }
  // The owner deletes its key of a task in `state`, as a collector does.
  std::string release(TaskState state) {
    std::vector<TaskId> candidates;
    for (const auto& [task, p] : model_.keys) {
      if (p.state == state) candidates.push_back(task);
    }
    if (candidates.empty()) return "";
    const TaskId task = candidates[below(candidates.size())];
    const CollectorId owner = model_.keys[task].owner;
    model_.keys.erase(task);
    engine_->released(task, owner);
    return task;
  }
  std::string batch(std::ostream& errors) {
    static const Op kInBatch[] = {Op::kJoin, Op::kLeave, Op::kResize, Op::kDrain, Op::kUndrain,
                                  Op::kAddStream, Op::kRemoveStream, Op::kReleaseRevoking,
                                  Op::kReleaseActive, Op::kRebalance, Op::kRezone};
    const int count = 2 + static_cast<int>(below(5));
    for (int i = 0; i < count; ++i) run_op(kInBatch[below(std::size(kInBatch))], errors);
    return std::to_string(count) + " ops";
  }

  void check_movement(Op op, const std::string& subject, const std::map<TaskId, CollectorId>& before,
                      const std::map<CollectorId, int64_t>& loads_before, std::ostream& errors) {
    const auto after = model_.counted();
    std::set<TaskId> changed;  // counted somewhere else, or nowhere, now
    int64_t moved = 0;         // counted at one collector before, another after
    for (const auto& [task, id] : before) {
      auto now = after.find(task);
      if (!model_.streams.count(task)) continue;
      if (now == after.end() || now->second != id) changed.insert(task);
      if (now != after.end() && now->second != id) ++moved;
    }
    const int64_t excess = excess_over_bounds(model_, loads_before);
    switch (op) {
      case Op::kAddStream:
      case Op::kRezone:
      case Op::kReleaseRevoking:
        if (moved != 0) errors << "moved " << moved << ", expected none; ";
        return;
      case Op::kReleaseActive:
        if (moved > 1) errors << "moved " << moved << " on releasing one task; ";
        return;
      case Op::kLeave: {
        std::set<TaskId> expected;
        for (const auto& [task, id] : before) {
          if (id == subject) expected.insert(task);
        }
        if (changed != expected) errors << "a leave moved " << changed.size() << " tasks, not its " << expected.size() << "; ";
        return;
      }
      case Op::kDrain: {
        std::set<TaskId> counted_there;
        for (const auto& [task, id] : before) {
          if (id == subject) counted_there.insert(task);
        }
        const bool must_all_go = model_.total_capacity() > 0;
        const bool subset = std::includes(counted_there.begin(), counted_there.end(), changed.begin(), changed.end());
        if (!subset || (must_all_go && changed != counted_there)) errors << "a drain moved the wrong tasks; ";
        return;
      }
      case Op::kJoin:
      case Op::kResize:
      case Op::kUndrain: {
        // It takes up to its rounded-down share; moves off collectors above
        // their (new) bounds come on top and may land anywhere within bound.
        const int64_t share_gap = std::max<int64_t>(0, model_.floor_share(subject) - at(loads_before, subject));
        if (moved > share_gap + excess) errors << "moved " << moved << ", share gap " << share_gap << " excess " << excess << "; ";
        return;
      }
      case Op::kRemoveStream:
        if (moved > excess) errors << "moved " << moved << " after a removal, excess " << excess << "; ";
        return;
      case Op::kRebalance:
        if (moved > static_cast<int64_t>(model_.streams.size())) errors << "rebalance moved more than T; ";
        return;
      case Op::kBatch:
        return;
    }
  }

  // Replaces the engine by one restored from the key space.
  void restore(std::ostream& errors) {
    auto restored = std::make_unique<Engine>(EngineOptions{model_.slack_permille});
    for (const auto& [id, spec] : model_.collectors) restored->restore_collector(id, spec);
    for (const CollectorId& id : model_.drain_keys) restored->restore_draining(id);
    for (const auto& [task, zone] : model_.streams) restored->restore_stream(task, zone);
    for (const auto& [task, p] : model_.keys) restored->restore_assignment(task, p);
    restored->finish_restore();
    if (!restored->finish().empty()) errors << "a restored engine changed a valid state; ";
    engine_ = std::move(restored);
    check_state(model_, *engine_, errors);
  }

  std::mt19937_64 rng_;
  std::unique_ptr<Engine> engine_;
  Model model_;
  int next_collector_ = 0;
  int next_stream_ = 0;
};

void run_seed(uint64_t seed, int64_t slack_permille) {
  INFO("seed " << seed << " slack " << slack_permille);
  Run run(seed, slack_permille);
  for (int i = 0; i < kStepsPerSeed; ++i) run.step(i);
}

TEST_CASE("property: random steps keep every rule, seed 1, slack 25%") { run_seed(1, kDefaultLoadSlackPermille); }

TEST_CASE("property: random steps keep every rule, seed 2, no slack") { run_seed(2, 0); }

TEST_CASE("property: random steps keep every rule, seed 3, slack 100%") { run_seed(3, 1000); }

TEST_CASE("property: random steps keep every rule, seed 4, slack 10%") { run_seed(4, 100); }

}  // namespace
}  // namespace corral::assign
