// The assignment engine (contract in engine.h).
//
// Vocabulary used below:
//  - a collector's *load* is what counts against its bound: the tasks it owns
//    and collects (active) plus the tasks revoking to it (incoming). A task
//    revoking away (outgoing) already counts at its target.
//  - T is the number of streams, C the total capacity of live non-draining
//    collectors; a collector's exact share is T * cap / C, its bound that
//    share times (1 + slack), rounded up.
//  - the *ratio index* orders live non-draining collectors by load/capacity
//    then id, globally and per zone: begin() is the least loaded, rbegin()
//    the most. Every load change re-keys the collector, O(log N).
//
// Calls record what happened and queue work; finish() does the work in a
// fixed order with the revision's final T and C:
//  1. re-target tasks that fell back to their owner (their target died or
//     started draining) when the owner cannot keep them;
//  2. place tasks without an owner (new streams, a dead collector's tasks,
//     released active tasks): each to the least-loaded collector, its zone's
//     least-loaded first if that one stays within its bound;
//  3. evacuate draining collectors: each task revokes to a placement target;
//  4. when bounds may have shrunk (fewer streams, more capacity), move tasks
//     off every collector above its bound, one by one, to placement targets;
//  5. collectors that joined (or grew, or stopped draining) first call off
//     their own tasks' moves away, then take tasks from the most-loaded
//     collector while that one is above its exact share, up to their
//     rounded-down share (the most-loaded is above its share
//     whenever any collector is, so this finds every possible source);
//  6. a requested rebalance: most-loaded to least-loaded while it improves.
// Every move in 2-6 lands within the target's bound; CORRAL_CHECK holds it.
// Why the least-loaded collector always fits: the loads of live non-draining
// collectors add up to at most T, so the lowest ratio is at most T/C, and
// below T/C when some task is unplaced or some collector is above its share.
//
// Decisions the contract leaves open:
//  - a move is cooperative only when the owner holds the task's key; a task
//    given to its owner in this same revision (no key written yet) moves
//    directly, so a new task is never created already revoking;
//  - when only draining collectors are live, their tasks stay put (the
//    owners are alive and collecting), while new streams, a dead
//    collector's tasks and released tasks wait unassigned: a draining
//    collector gets nothing new. The first available collector gets them;
//  - a task whose target leaves or drains falls back to its owner and is
//    re-targeted only if the owner is draining or now above its bound;
//  - released(task, owner) clears the stored key whenever `owner` held it at
//    the start of the revision, even if the engine already moved the task
//    (the owner died earlier in the same revision); a key the engine never
//    gave `owner` is stale and ignored.
#include "coordinator/assign/engine.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "coordinator/base/check.h"

namespace corral::assign {
namespace {

constexpr int64_t kPermille = 1000;

int64_t ceil_div(__int128 numerator, __int128 denominator) {
  return static_cast<int64_t>((numerator + denominator - 1) / denominator);
}

int64_t floor_div(__int128 numerator, __int128 denominator) {
  return static_cast<int64_t>(numerator / denominator);
}

// Whether a/b < c/d, exactly, for non-negative a, c and positive b, d.
bool ratio_less(int64_t a, int64_t b, int64_t c, int64_t d) {
  return static_cast<__int128>(a) * d < static_cast<__int128>(c) * b;
}

// A live non-draining collector's position in a ratio index: by load over
// capacity, compared exactly by cross-multiplication, then by id.
struct RatioKey {
  int64_t load = 0;
  int64_t capacity = 1;
  CollectorId id;
  bool operator<(const RatioKey& other) const {
    const __int128 lhs = static_cast<__int128>(load) * other.capacity;
    const __int128 rhs = static_cast<__int128>(other.load) * capacity;
    if (lhs != rhs) return lhs < rhs;
    return id < other.id;
  }
};
using RatioIndex = std::set<RatioKey>;

// Active tasks are keyed by (stream zone, task) so that a move can prefer a
// task of the target's zone in O(log n).
using ZonedTask = std::pair<std::string, TaskId>;

struct Collector {
  CollectorSpec spec;
  bool draining = false;
  std::set<ZonedTask> active;  // owned and collected
  std::set<TaskId> outgoing;   // owned, revoking to another collector
  std::set<TaskId> incoming;   // owned by another collector, revoking to this one
  int64_t load() const { return static_cast<int64_t>(active.size() + incoming.size()); }
  int64_t owned() const { return static_cast<int64_t>(active.size() + outgoing.size()); }
};

struct Stream {
  std::string zone;
  std::optional<Placement> placement;
};

}  // namespace

struct Engine::State {
  EngineOptions options;
  std::map<CollectorId, Collector> collectors;  // live collectors
  std::set<CollectorId> draining_ids;           // drain keys, live collector or not
  std::map<TaskId, Stream> streams;
  int64_t total_capacity = 0;  // of live non-draining collectors
  RatioIndex by_ratio;
  std::map<std::string, RatioIndex> by_zone;  // non-empty zones only

  // Work queued for finish().
  std::set<TaskId> unplaced;       // streams without an owner
  std::set<TaskId> fallen_back;    // active at their owner because their target left
  std::set<CollectorId> evacuate;  // draining collectors that may own active tasks
  std::set<CollectorId> joiners;   // may take their share
  bool bounds_may_shrink = false;
  bool rebalance_requested = false;

  // Per task touched this revision: what the key space held before it.
  std::map<TaskId, std::optional<Placement>> stored;
  // restore_assignment() input, consumed by finish_restore().
  std::map<TaskId, Placement> restored;

  // --- figures ---
  int64_t task_count() const { return static_cast<int64_t>(streams.size()); }

  int64_t bound(const Collector& c) const {
    if (c.draining || total_capacity == 0) return 0;
    const __int128 numerator = static_cast<__int128>(task_count()) * c.spec.capacity *
                               (kPermille + options.load_slack_permille);
    return ceil_div(numerator, static_cast<__int128>(total_capacity) * kPermille);
  }
  int64_t floor_share(const Collector& c) const {
    if (c.draining || total_capacity == 0) return 0;
    return floor_div(static_cast<__int128>(task_count()) * c.spec.capacity, total_capacity);
  }
  // Whether load(c) > T * cap / C, compared exactly.
  bool above_share(const Collector& c) const {
    if (c.draining || total_capacity == 0) return false;
    return static_cast<__int128>(c.load()) * total_capacity >
           static_cast<__int128>(task_count()) * c.spec.capacity;
  }
  int64_t ceil_share(const Collector& c) const {
    if (c.draining || total_capacity == 0) return 0;
    return ceil_div(static_cast<__int128>(task_count()) * c.spec.capacity, total_capacity);
  }

  Collector& collector(const CollectorId& id) {
    auto it = collectors.find(id);
    CORRAL_CHECK_MSG(it != collectors.end(), id.c_str());
    return it->second;
  }
  Stream& stream(const TaskId& task) {
    auto it = streams.find(task);
    CORRAL_CHECK_MSG(it != streams.end(), task.c_str());
    return it->second;
  }

  // --- the ratio indexes ---
  static RatioKey key_of(const CollectorId& id, const Collector& c) {
    return RatioKey{c.load(), c.spec.capacity, id};
  }
  void index(const CollectorId& id, const Collector& c) {
    if (c.draining) return;
    CORRAL_CHECK(by_ratio.insert(key_of(id, c)).second);
    if (!c.spec.zone.empty()) CORRAL_CHECK(by_zone[c.spec.zone].insert(key_of(id, c)).second);
  }
  void unindex(const CollectorId& id, const Collector& c) {
    if (c.draining) return;
    CORRAL_CHECK(by_ratio.erase(key_of(id, c)) == 1);
    if (c.spec.zone.empty()) return;
    auto zone = by_zone.find(c.spec.zone);
    CORRAL_CHECK(zone != by_zone.end() && zone->second.erase(key_of(id, c)) == 1);
    if (zone->second.empty()) by_zone.erase(zone);
  }
  // Runs `change` on a collector's task sets, keeping its index key current.
  template <typename Change>
  void change_collector(const CollectorId& id, Change&& change) {
    Collector& c = collector(id);
    unindex(id, c);
    change(c);
    index(id, c);
  }

  // --- one task's placement: every change goes through set_placement ---
  void touch(const TaskId& task) {
    auto it = streams.find(task);
    stored.try_emplace(task, it == streams.end() ? std::nullopt : it->second.placement);
  }

  void unlink(const TaskId& task, const Stream& s) {
    const Placement& p = *s.placement;
    if (p.state == TaskState::kActive) {
      change_collector(p.owner, [&](Collector& c) {
        CORRAL_CHECK(c.active.erase({s.zone, task}) == 1);
      });
      return;
    }
    change_collector(p.owner, [&](Collector& c) { CORRAL_CHECK(c.outgoing.erase(task) == 1); });
    change_collector(p.target, [&](Collector& c) { CORRAL_CHECK(c.incoming.erase(task) == 1); });
  }

  void link(const TaskId& task, const Stream& s) {
    const Placement& p = *s.placement;
    if (p.state == TaskState::kActive) {
      CORRAL_CHECK(p.target.empty());
      change_collector(p.owner, [&](Collector& c) {
        CORRAL_CHECK(c.active.insert({s.zone, task}).second);
      });
      return;
    }
    CORRAL_CHECK(p.target != p.owner && !collector(p.target).draining);
    change_collector(p.owner, [&](Collector& c) { CORRAL_CHECK(c.outgoing.insert(task).second); });
    change_collector(p.target, [&](Collector& c) { CORRAL_CHECK(c.incoming.insert(task).second); });
  }

  void set_placement(const TaskId& task, std::optional<Placement> placement) {
    touch(task);
    Stream& s = stream(task);
    if (s.placement) unlink(task, s);
    s.placement = std::move(placement);
    if (s.placement) link(task, s);
  }

  static Placement active_at(const CollectorId& owner) { return Placement{owner, TaskState::kActive, {}}; }
  static Placement revoking(const CollectorId& owner, const CollectorId& target) {
    return Placement{owner, TaskState::kRevoking, target};
  }

  // Where a task of `zone` goes: the least-loaded collector of its zone if
  // that one stays within its bound after taking it, else the least-loaded
  // collector. nullptr when no live non-draining collector exists.
  const CollectorId* placement_target(const std::string& zone) const {
    if (by_ratio.empty()) return nullptr;
    if (!zone.empty()) {
      auto in_zone = by_zone.find(zone);
      if (in_zone != by_zone.end()) {
        const RatioKey& least = *in_zone->second.begin();
        if (least.load + 1 <= bound(collectors.at(least.id))) return &least.id;
      }
    }
    return &by_ratio.begin()->id;
  }

  // A task counted in `source`'s load, to move elsewhere: one revoking to
  // `source` first (it has not moved yet: sending it elsewhere, or back,
  // disturbs no collection), else an active one of `zone`, else any.
  TaskId task_to_move(const Collector& source, const std::string& zone) const {
    if (!source.incoming.empty()) return *source.incoming.begin();
    auto in_zone = source.active.lower_bound({zone, TaskId()});
    if (in_zone != source.active.end() && in_zone->first == zone) return in_zone->second;
    CORRAL_CHECK(!source.active.empty());
    return source.active.begin()->second;
  }

  // The task's assignment key as the key space holds it now.
  std::optional<Placement> key_of_task(const TaskId& task) const {
    if (auto it = stored.find(task); it != stored.end()) return it->second;
    auto it = streams.find(task);
    return it == streams.end() ? std::nullopt : it->second.placement;
  }

  // Whether `owner` holds the task's assignment key now, i.e. may be
  // collecting it: false for an owner given the task in this revision.
  bool holds_key(const TaskId& task, const CollectorId& owner) const {
    auto it = stored.find(task);
    return it == stored.end() || (it->second && it->second->owner == owner);
  }

  // Sends `task` to `destination`: at once when its owner got it in this
  // revision (it has not started collecting), else cooperatively: the owner
  // keeps it, revoking to `destination`, or active when it is the destination.
  void redirect(const TaskId& task, const CollectorId& destination) {
    const Placement current = *stream(task).placement;
    if (current.owner == destination || !holds_key(task, current.owner)) {
      set_placement(task, active_at(destination));
    } else {
      set_placement(task, revoking(current.owner, destination));
    }
    const Collector& d = collector(destination);
    CORRAL_CHECK(!d.draining && d.load() <= bound(d));
  }

  // Moves one task counted at `source` to a placement target.
  void move_off(const CollectorId& source_id) {
    const Collector& source = collector(source_id);
    const TaskId task = task_to_move(source, std::string());
    // A pending move into `source` is called off when its owner can keep it.
    const Placement& p = *stream(task).placement;
    if (p.state == TaskState::kRevoking) {
      const Collector& owner = collector(p.owner);
      if (!owner.draining && owner.load() + 1 <= bound(owner)) {
        redirect(task, CollectorId(p.owner));
        return;
      }
    }
    const CollectorId* target = placement_target(stream(task).zone);
    CORRAL_CHECK(target != nullptr && *target != source_id);
    redirect(task, CollectorId(*target));
  }

  // A target left or started draining: its incoming tasks fall back to
  // their owners, which finish() re-targets if they cannot keep them.
  void drop_incoming(Collector& c) {
    const std::set<TaskId> incoming = c.incoming;
    for (const TaskId& task : incoming) {
      const CollectorId owner = stream(task).placement->owner;
      set_placement(task, active_at(owner));
      fallen_back.insert(task);
      // A draining owner may have been evacuated already: evacuate again.
      if (collector(owner).draining) evacuate.insert(owner);
    }
  }

  void add_capacity(const CollectorId& id, const Collector& c) {
    total_capacity += c.spec.capacity;
    index(id, c);
    joiners.insert(id);
    bounds_may_shrink = true;
  }

  void remove_capacity(const CollectorId& id, const Collector& c) {
    unindex(id, c);
    total_capacity -= c.spec.capacity;
    CORRAL_CHECK(total_capacity >= 0);
  }

  // --- finish() passes, in order ---
  void retarget_fallen_back();
  void place_unplaced();
  void evacuate_draining();
  void enforce_bounds();
  void take_shares();
  void rebalance_pass();
  std::vector<AssignmentChange> collect_changes();

  void restore_one(const TaskId& task, const Placement& placement);
  std::string check_collectors() const;
  std::string check_streams() const;
  std::string check_indexes() const;
};

// --- finish() passes ---

void Engine::State::retarget_fallen_back() {
  for (const TaskId& task : fallen_back) {
    auto it = streams.find(task);
    if (it == streams.end() || !it->second.placement) continue;
    const Placement& p = *it->second.placement;
    if (p.state != TaskState::kActive) continue;  // already moved on this revision
    const Collector& owner = collector(p.owner);
    if (!owner.draining && owner.load() <= bound(owner)) continue;
    const CollectorId* target = placement_target(it->second.zone);
    if (target == nullptr) continue;  // only draining collectors: the owner keeps it
    redirect(task, CollectorId(*target));
  }
  fallen_back.clear();
}

void Engine::State::place_unplaced() {
  const std::set<TaskId> tasks = std::move(unplaced);
  unplaced.clear();
  for (const TaskId& task : tasks) {
    const CollectorId* target = placement_target(stream(task).zone);
    CORRAL_CHECK(target != nullptr);
    const CollectorId chosen = *target;
    set_placement(task, active_at(chosen));
    const Collector& c = collector(chosen);
    CORRAL_CHECK(c.load() <= bound(c));
  }
}

void Engine::State::evacuate_draining() {
  for (const CollectorId& id : evacuate) {
    auto it = collectors.find(id);
    if (it == collectors.end() || !it->second.draining) continue;
    while (!it->second.active.empty()) move_off(id);
  }
  evacuate.clear();
}

void Engine::State::enforce_bounds() {
  for (const auto& [id, c] : collectors) {
    if (c.draining) continue;
    while (c.load() > bound(c)) move_off(id);
  }
}

void Engine::State::take_shares() {
  for (const CollectorId& id : joiners) {
    auto it = collectors.find(id);
    if (it == collectors.end() || it->second.draining) continue;
    const Collector& joiner = it->second;
    // Its own moves away (left over from a drain) are called off first:
    // a task that stays put is the cheapest one to take.
    while (joiner.load() < floor_share(joiner) && !joiner.outgoing.empty()) {
      redirect(TaskId(*joiner.outgoing.begin()), id);
    }
    while (joiner.load() < floor_share(joiner)) {
      const RatioKey& most = *by_ratio.rbegin();
      if (most.id == id) break;
      const Collector& source = collector(most.id);
      if (!above_share(source)) break;
      redirect(task_to_move(source, joiner.spec.zone), id);
    }
  }
  joiners.clear();
}

// Moves from the most- to the least-loaded collector while either is off its
// share and the move strictly narrows their ratio gap; at most T moves.
void Engine::State::rebalance_pass() {
  for (int64_t moves = 0; moves < task_count() && by_ratio.size() > 1; ++moves) {
    const RatioKey least = *by_ratio.begin();
    const RatioKey most = *by_ratio.rbegin();
    const Collector& low = collector(least.id);
    const Collector& high = collector(most.id);
    const bool off_share = high.load() > ceil_share(high) || low.load() < floor_share(low);
    const bool narrows = ratio_less(least.load + 1, least.capacity, most.load, most.capacity);
    if (!off_share || !narrows || low.load() + 1 > bound(low)) break;
    redirect(task_to_move(high, low.spec.zone), least.id);
  }
}

std::vector<AssignmentChange> Engine::State::collect_changes() {
  std::vector<AssignmentChange> changes;
  for (auto& [task, before] : stored) {
    auto it = streams.find(task);
    std::optional<Placement> wanted = it == streams.end() ? std::nullopt : it->second.placement;
    if (before == wanted) continue;
    changes.push_back(AssignmentChange{task, std::move(before), std::move(wanted)});
  }
  stored.clear();
  return changes;
}

// --- recovery ---

// Takes one stored assignment as the revision's starting point and repairs
// what breaks a rule (a dead owner or target, a draining target); the repair
// shows up as a change in the next finish().
void Engine::State::restore_one(const TaskId& task, const Placement& placement) {
  stored[task] = placement;
  auto it = streams.find(task);
  if (it == streams.end()) return;  // a stale key: the next finish() deletes it
  const auto live_target = [&](const CollectorId& id) {
    auto c = collectors.find(id);
    return c != collectors.end() && !c->second.draining;
  };
  const bool valid_revoke = placement.state == TaskState::kRevoking &&
                            placement.target != placement.owner && live_target(placement.target);
  const bool owner_live = collectors.count(placement.owner) > 0;
  if (owner_live && valid_revoke) {
    set_placement(task, revoking(placement.owner, placement.target));
  } else if (owner_live) {
    set_placement(task, active_at(placement.owner));
  } else if (valid_revoke) {
    set_placement(task, active_at(placement.target));
  }
}

// --- invariants ---

std::string Engine::State::check_collectors() const {
  std::ostringstream out;
  int64_t capacity = 0;
  for (const auto& [id, c] : collectors) {
    if (c.draining != (draining_ids.count(id) > 0)) out << id << ": draining flag differs from drain keys; ";
    if (c.spec.capacity < 1 || c.spec.capacity > kMaxCapacity) out << id << ": capacity out of range; ";
    if (!c.draining) capacity += c.spec.capacity;
    if (c.draining && !c.incoming.empty()) out << id << ": draining but a revoke target; ";
    if (!c.draining && c.load() > bound(c)) {
      out << id << ": load " << c.load() << " above bound " << bound(c) << "; ";
    }
    if (c.draining && !by_ratio.empty() && !c.active.empty()) {
      out << id << ": draining with active tasks while another collector is available; ";
    }
  }
  if (capacity != total_capacity) out << "total capacity " << total_capacity << " != " << capacity << "; ";
  return out.str();
}

std::string Engine::State::check_streams() const {
  std::ostringstream out;
  std::map<CollectorId, int64_t> active, outgoing, incoming;
  for (const auto& [task, s] : streams) {
    if (!s.placement) {
      if (!by_ratio.empty()) out << task << ": unassigned; ";
      if (!unplaced.count(task)) out << task << ": unassigned but not queued; ";
      continue;
    }
    const Placement& p = *s.placement;
    auto owner = collectors.find(p.owner);
    if (owner == collectors.end()) {
      out << task << ": owner " << p.owner << " not live; ";
      continue;
    }
    if (p.state == TaskState::kActive) {
      if (!p.target.empty()) out << task << ": active with a target; ";
      if (!owner->second.active.count({s.zone, task})) out << task << ": missing from owner's set; ";
      ++active[p.owner];
      continue;
    }
    auto target = collectors.find(p.target);
    if (p.target == p.owner) out << task << ": target is the owner; ";
    if (target == collectors.end() || target->second.draining) {
      out << task << ": target " << p.target << " not live or draining; ";
      continue;
    }
    ++outgoing[p.owner];
    ++incoming[p.target];
  }
  for (const auto& [id, c] : collectors) {
    const auto count = [](const std::map<CollectorId, int64_t>& m, const CollectorId& k) {
      auto it = m.find(k);
      return it == m.end() ? int64_t{0} : it->second;
    };
    if (count(active, id) != static_cast<int64_t>(c.active.size()) ||
        count(outgoing, id) != static_cast<int64_t>(c.outgoing.size()) ||
        count(incoming, id) != static_cast<int64_t>(c.incoming.size())) {
      out << id << ": task sets differ from the placements; ";
    }
  }
  for (const TaskId& task : unplaced) {
    auto it = streams.find(task);
    if (it == streams.end() || it->second.placement) out << task << ": queued for placement but placed or gone; ";
  }
  return out.str();
}

std::string Engine::State::check_indexes() const {
  std::ostringstream out;
  RatioIndex expected;
  std::map<std::string, RatioIndex> expected_zones;
  for (const auto& [id, c] : collectors) {
    if (c.draining) continue;
    expected.insert(key_of(id, c));
    if (!c.spec.zone.empty()) expected_zones[c.spec.zone].insert(key_of(id, c));
  }
  const auto same = [](const RatioIndex& a, const RatioIndex& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const RatioKey& x, const RatioKey& y) {
      return x.id == y.id && x.load == y.load && x.capacity == y.capacity;
    });
  };
  if (!same(expected, by_ratio)) out << "ratio index stale; ";
  bool zones_same = expected_zones.size() == by_zone.size();
  for (const auto& [zone, index] : expected_zones) {
    auto it = by_zone.find(zone);
    zones_same = zones_same && it != by_zone.end() && same(index, it->second);
  }
  if (!zones_same) out << "zone index stale; ";
  return out.str();
}

// --- Engine ---

Engine::Engine(EngineOptions options) : state_(std::make_unique<State>()) {
  CORRAL_CHECK(options.load_slack_permille >= 0);
  state_->options = options;
}

Engine::~Engine() = default;

void Engine::upsert_collector(const CollectorId& id, const CollectorSpec& spec) {
  CORRAL_CHECK(spec.capacity >= 1 && spec.capacity <= kMaxCapacity);
  State& s = *state_;
  auto [it, added] = s.collectors.try_emplace(id);
  Collector& c = it->second;
  if (added) {
    c.spec = spec;
    c.draining = s.draining_ids.count(id) > 0;
    if (!c.draining) s.add_capacity(id, c);
    return;
  }
  if (c.spec == spec) return;
  const bool grew = spec.capacity > c.spec.capacity;
  const bool resized = spec.capacity != c.spec.capacity;
  if (!c.draining) s.remove_capacity(id, c);
  c.spec = spec;
  if (c.draining) return;
  s.total_capacity += c.spec.capacity;
  s.index(id, c);
  // Any capacity change moves every bound; a shrinking one may leave this
  // collector above its own.
  if (resized) s.bounds_may_shrink = true;
  if (grew) s.joiners.insert(id);
}

void Engine::remove_collector(const CollectorId& id) {
  State& s = *state_;
  auto it = s.collectors.find(id);
  if (it == s.collectors.end()) return;
  Collector& c = it->second;
  if (!c.draining) s.remove_capacity(id, c);
  c.draining = true;  // out of the indexes from here on
  s.drop_incoming(c);
  const std::set<TaskId> outgoing = c.outgoing;
  for (const TaskId& task : outgoing) {
    // The owner is gone: the task is its target's at once.
    s.set_placement(task, State::active_at(s.stream(task).placement->target));
  }
  const std::set<ZonedTask> active = c.active;
  for (const auto& [zone, task] : active) {
    s.set_placement(task, std::nullopt);
    s.unplaced.insert(task);
  }
  CORRAL_CHECK(c.load() == 0 && c.owned() == 0);
  s.collectors.erase(it);
  s.joiners.erase(id);
  s.evacuate.erase(id);
}

void Engine::set_draining(const CollectorId& id, bool draining) {
  State& s = *state_;
  if (draining) {
    s.draining_ids.insert(id);
  } else {
    s.draining_ids.erase(id);
  }
  auto it = s.collectors.find(id);
  if (it == s.collectors.end() || it->second.draining == draining) return;
  Collector& c = it->second;
  if (draining) {
    s.remove_capacity(id, c);
    c.draining = true;
    s.drop_incoming(c);
    s.evacuate.insert(id);
    s.joiners.erase(id);
    return;
  }
  // Undrain is a join: it first calls off its own tasks' moves away, up to
  // its share (take_shares), and the rest keep going.
  c.draining = false;
  s.add_capacity(id, c);
  s.evacuate.erase(id);
}

void Engine::upsert_stream(const TaskId& task, const std::string& zone) {
  State& s = *state_;
  auto it = s.streams.find(task);
  if (it == s.streams.end()) {
    s.touch(task);
    s.streams.emplace(task, Stream{zone, std::nullopt});
    s.unplaced.insert(task);
    return;
  }
  Stream& stream = it->second;
  if (stream.zone == zone) return;
  // A zone change keeps the task where it is; only its key in the owner's
  // active set follows the zone.
  if (stream.placement && stream.placement->state == TaskState::kActive) {
    Collector& owner = s.collector(stream.placement->owner);
    CORRAL_CHECK(owner.active.erase({stream.zone, task}) == 1);
    owner.active.insert({zone, task});
  }
  stream.zone = zone;
}

void Engine::remove_stream(const TaskId& task) {
  State& s = *state_;
  auto it = s.streams.find(task);
  if (it == s.streams.end()) return;
  if (it->second.placement) s.set_placement(task, std::nullopt);
  s.touch(task);
  s.unplaced.erase(task);
  s.fallen_back.erase(task);
  s.streams.erase(task);
  s.bounds_may_shrink = true;  // T shrank
}

void Engine::released(const TaskId& task, const CollectorId& owner) {
  State& s = *state_;
  const std::optional<Placement> key = s.key_of_task(task);
  if (!key || key->owner != owner) return;  // a stale key
  auto it = s.streams.find(task);
  // The owner may have lost the task earlier in this revision (it died, or
  // the stream went): then only the key is gone.
  if (it != s.streams.end() && it->second.placement && it->second.placement->owner == owner) {
    const Placement current = *it->second.placement;
    if (current.state == TaskState::kRevoking) {
      s.set_placement(task, State::active_at(current.target));
    } else {
      s.set_placement(task, std::nullopt);
      s.unplaced.insert(task);
    }
  }
  s.stored[task] = std::nullopt;
}

void Engine::rebalance() { state_->rebalance_requested = true; }

std::vector<AssignmentChange> Engine::finish() {
  State& s = *state_;
  if (!s.by_ratio.empty()) {
    s.retarget_fallen_back();
    s.place_unplaced();
    s.evacuate_draining();
    if (s.bounds_may_shrink) s.enforce_bounds();
    s.take_shares();
    if (s.rebalance_requested) s.rebalance_pass();
  }
  // Without a live non-draining collector, unplaced tasks and draining
  // owners wait for one; every other request is void.
  s.fallen_back.clear();
  s.joiners.clear();
  s.bounds_may_shrink = false;
  s.rebalance_requested = false;
  return s.collect_changes();
}

void Engine::restore_collector(const CollectorId& id, const CollectorSpec& spec) {
  CORRAL_CHECK(spec.capacity >= 1 && spec.capacity <= kMaxCapacity);
  state_->collectors[id].spec = spec;
}

void Engine::restore_draining(const CollectorId& id) { state_->draining_ids.insert(id); }

void Engine::restore_stream(const TaskId& task, const std::string& zone) {
  state_->streams[task] = Stream{zone, std::nullopt};
}

void Engine::restore_assignment(const TaskId& task, const Placement& placement) {
  state_->restored[task] = placement;
}

void Engine::finish_restore() {
  State& s = *state_;
  CORRAL_CHECK(s.by_ratio.empty() && s.total_capacity == 0 && s.stored.empty());
  for (auto& [id, c] : s.collectors) {
    CORRAL_CHECK(c.load() == 0 && c.owned() == 0);
    c.draining = s.draining_ids.count(id) > 0;
    if (c.draining) {
      s.evacuate.insert(id);
    } else {
      s.total_capacity += c.spec.capacity;
      s.index(id, c);
    }
  }
  for (const auto& [task, placement] : s.restored) s.restore_one(task, placement);
  s.restored.clear();
  for (const auto& [task, stream] : s.streams) {
    if (!stream.placement) s.unplaced.insert(task);
  }
  // The stored state may break a bound; the next finish() checks them all.
  s.bounds_may_shrink = true;
}

std::optional<Placement> Engine::placement(const TaskId& task) const {
  auto it = state_->streams.find(task);
  if (it == state_->streams.end()) return std::nullopt;
  return it->second.placement;
}

std::vector<CollectorLoad> Engine::loads() const {
  std::vector<CollectorLoad> out;
  out.reserve(state_->collectors.size());
  for (const auto& [id, c] : state_->collectors) {
    out.push_back(CollectorLoad{id, c.spec, c.draining, c.owned(), c.load(), state_->bound(c)});
  }
  return out;
}

size_t Engine::stream_count() const { return state_->streams.size(); }

size_t Engine::collector_count() const { return state_->collectors.size(); }

int64_t Engine::bound_of(const CollectorId& id) const {
  auto it = state_->collectors.find(id);
  return it == state_->collectors.end() ? 0 : state_->bound(it->second);
}

std::string Engine::check_invariants() const {
  return state_->check_collectors() + state_->check_streams() + state_->check_indexes();
}

}  // namespace corral::assign
