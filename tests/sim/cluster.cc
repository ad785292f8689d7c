#include "tests/sim/cluster.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "coordinator/base/check.h"
#include "coordinator/raft/memory_storage.h"
#include "coordinator/raft/raw_node.h"
#include "coordinator/server/read_lease.h"
#include "tests/sim/history.h"
#include "tests/sim/kv_state_machine.h"
#include "tests/sim/linearizability.h"
#include "tests/sim/network.h"
#include "tests/sim/prng.h"
#include "tests/sim/safety_checker.h"
#include "tests/sim/trace.h"

namespace corral::sim {
namespace {

using raft::Index;
using raft::NodeId;

constexpr int kElectionTicks = 10;
// Lease reads only: a pause (SimNode::paused_until) starts with this chance per tick.
constexpr uint64_t kPausePerMillePerTick = 5;
// SimOptions::lease_edge_faults only: a leader cut off with its connections
// dropped starts with this chance per tick.
constexpr uint64_t kLeaseEdgePerMillePerTick = 8;
constexpr int kHeartbeatTicks = 1;
constexpr int kClients = 4;
constexpr int kKeys = 3;
constexpr Tick kOpTimeoutTicks = 60;
constexpr Tick kClientThinkTicksMax = 4;
constexpr Index kSnapshotIntervalEntries = 24;
constexpr Index kEntriesKeptAfterSnapshot = 4;
constexpr int kMaxReadyRoundsPerTick = 16;
constexpr Tick kLogCheckIntervalTicks = 10;
constexpr Tick kLivenessBoundTicks = 600;
constexpr uint64_t kMaxInFlightMessages = 4096;
// A learner is promoted once it is this close to the leader's commit index.
constexpr Index kPromoteLagEntries = 4;
constexpr uint64_t kPerTenThousand = 10000;

// Fault rates of one seed, drawn from it so seeds differ in character: some
// are calm, some lose a tenth of their messages and crash often.
struct FaultPlan {
  uint64_t crash_per_mille_per_tick;
  uint64_t crash_in_ready_per_ten_thousand;
  Tick min_down_ticks, max_down_ticks;
  uint64_t partition_per_mille_per_tick;
  Tick min_partition_ticks, max_partition_ticks;
  uint64_t transfer_per_mille_per_tick;
  uint64_t membership_per_mille_per_tick;
  uint64_t network_change_per_mille_per_tick;
  NetworkConfig network;
};

FaultPlan draw_fault_plan(Rng& rng) {
  FaultPlan p;
  p.crash_per_mille_per_tick = rng.between(1, 8);
  p.crash_in_ready_per_ten_thousand = rng.between(0, 8);
  p.min_down_ticks = 5;
  p.max_down_ticks = rng.between(20, 120);
  p.partition_per_mille_per_tick = rng.between(1, 8);
  p.min_partition_ticks = 10;
  p.max_partition_ticks = rng.between(30, 150);
  p.transfer_per_mille_per_tick = rng.between(0, 6);
  p.membership_per_mille_per_tick = rng.between(2, 10);
  p.network_change_per_mille_per_tick = rng.between(0, 5);
  p.network = {rng.between(0, 100), rng.between(0, 50), 0, rng.between(1, 4), kMaxInFlightMessages};
  return p;
}

std::string node_name(NodeId id) { return "n" + std::to_string(id); }

std::string conf_text(const raft::ConfState& cs) {
  std::string s = "voters{";
  for (NodeId v : cs.voters) s += " " + std::to_string(v);
  s += " } learners{";
  for (NodeId v : cs.learners) s += " " + std::to_string(v);
  return s + " }";
}

bool contains(const std::vector<NodeId>& v, NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

struct AckedPut {
  std::string key;
  std::string value;
  Index index;
  NodeId node;
};

// A request a node holds for a client until it applies (put) or serves (get).
struct PendingRead {
  Index index;
  int client;
};

struct SimNode {
  NodeId id = raft::kNoNode;
  bool up = false;
  raft::MemoryStorage storage;  // what the node has written; raft reads this
  raft::MemoryStorage durable;  // what the last sync made durable
  std::unique_ptr<raft::RawNode> raw;
  KvStateMachine sm;
  Index applied = 0;
  raft::ConfState conf;  // membership as of `applied`
  raft::SoftState soft;
  raft::Term leader_term = 0;  // term it leads, while soft.role == kLeader
  Tick restart_at = 0;
  uint64_t incarnation = 0;
  std::map<std::string, int> pending_puts;   // value -> client
  std::map<std::string, int> pending_reads;  // read ctx -> client, before its ReadState
  std::vector<PendingRead> ready_reads;      // read index known, waiting for apply
  // Asynchronous leader writes not yet finished (lost by a crash).
  struct Write {
    std::vector<raft::Entry> entries;
    std::optional<raft::HardState> hard_state;
    Tick due = 0;
  };
  std::deque<Write> writes;
  raft::HardState written_hs;  // term and vote as last written
  std::optional<server::ReadLease> lease;  // SimOptions::lease_reads, with the promise
  // A pause (SIGSTOP; only with SimOptions::lease_reads): until paused_until
  // the node neither ticks nor handles anything; until deaf_until (later)
  // every message to it is lost, so that once it runs again it believes it
  // still leads. Reset by a restart.
  Tick paused_until = 0;
  Tick deaf_until = 0;
  // Its clock's rate, in thousandths of the simulated time
  // (SimOptions::clock_drift_permille); kept across restarts (same machine).
  uint64_t clock_rate_permille = 1000;
};

struct Client {
  int id = 0;
  bool probe = false;  // the liveness probe: one put, then one get
  bool busy = false;
  bool is_put = false;
  uint64_t op = 0;
  NodeId node = raft::kNoNode;  // where the current request waits
  std::string token;            // its value (put) or read ctx (get)
  raft::Term asked_leader_term = 0;  // a get asked of a leader: the term it led
  Tick deadline = 0;
  Tick next_start = 0;
  NodeId target = raft::kNoNode;
  uint64_t seq = 0;
  bool probe_put_done = false;
  bool probe_get_done = false;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& opt)
      : opt_(opt),
        rng_(opt.seed),
        fault_rng_(rng_.fork(1)),
        client_rng_(rng_.fork(2)),
        node_rng_(rng_.fork(3)),
        net_(rng_.fork(4)),
        trace_(opt.keep_trace) {}

  SimResult run();

 private:
  SimNode& node(NodeId id) { return nodes_[id - 1]; }
  std::vector<NodeId> all_ids() const {
    std::vector<NodeId> ids;
    for (const SimNode& n : nodes_) ids.push_back(n.id);
    return ids;
  }
  void fail(const Violation& v) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.property = v.property;
    result_.detail = v.detail;
    result_.tick = now_;
    trace_.line(now_, "VIOLATION " + v.property + ": " + v.detail);
  }
  bool failed() const { return !result_.ok; }

  void start_node(SimNode& n);
  void crash(SimNode& n, const std::string& where);
  void handle_ready(SimNode& n);
  void persist(SimNode& n, const raft::Ready& rd);
  bool write_async(SimNode& n, const raft::Ready& rd);
  void finish_writes(SimNode& n, bool all);
  const raft::MemoryStorage& log_view(SimNode& n);
  void send(SimNode& n, const raft::Message& m);
  void apply(SimNode& n, const raft::Ready& rd);
  void apply_entry(SimNode& n, const raft::Entry& e);
  void maybe_snapshot(SimNode& n);
  void on_role(SimNode& n, const raft::SoftState& soft);
  void deliver();
  void faults();
  void membership();
  void start_partition();
  void clients();
  void client_start(Client& c);
  void client_finish(Client& c, const std::string& observed, uint64_t version, Index index);
  bool lease_read(SimNode& n, Client& c);
  // Node n's clock at `tick`, in microseconds: one tick = 1 ms at rate 1000.
  static uint64_t clock_us(const SimNode& n, Tick tick) { return tick * n.clock_rate_permille; }
  // The simulated time as n's read lease sees it.
  server::ReadLease::Clock::time_point lease_clock(const SimNode& n) const {
    return server::ReadLease::Clock::time_point{} + std::chrono::hours(1) + std::chrono::microseconds(clock_us(n, now_));
  }
  // The ticks n's clock passed during the current step (1 at rate 1000;
  // 0 to 2 with drift). A node paused or down skips them, as corrald's
  // loop does not catch up on missed ticks.
  uint64_t ticks_due(const SimNode& n) const {
    constexpr uint64_t kTickUs = 1000;
    return clock_us(n, now_) / kTickUs - clock_us(n, now_ - 1) / kTickUs;  // now_ >= 1
  }
  void client_timeout(Client& c);
  void client_abandon(Client& c);
  void drop_pending(SimNode& n);
  NodeId leader_hint(NodeId asked);
  SimNode* current_leader();
  void maybe_pause();
  void cut_off_leader_with_notice();
  bool paused(const SimNode& n) const { return now_ < n.paused_until; }
  void check_logs();
  void final_checks();

  SimOptions opt_;
  Rng rng_;
  Rng fault_rng_;
  Rng client_rng_;
  Rng node_rng_;
  Network net_;
  Trace trace_;
  FaultPlan plan_{};
  Tick now_ = 0;
  bool liveness_phase_ = false;
  Tick partition_until_ = 0;
  bool partitioned_ = false;
  std::vector<SimNode> nodes_;
  std::vector<Client> clients_;
  raft::MemoryStorage scratch_log_;  // log_view()'s copy
  History history_;
  SafetyChecker safety_;
  std::vector<AckedPut> acked_;
  NodeId last_leader_ = raft::kNoNode;
  SimResult result_;
  SimStats& stats_ = result_.stats;
};

void Simulation::start_node(SimNode& n) {
  n.paused_until = 0;
  n.deaf_until = 0;
  n.storage = n.durable;
  raft::Snapshot snap;
  auto s = n.storage.snapshot();
  if (s.ok()) snap = s.value();
  n.sm = KvStateMachine();
  if (!snap.empty()) {
    auto sm = KvStateMachine::deserialize(snap.data);
    if (!sm) {
      fail({"snapshot format", node_name(n.id) + " cannot read its own durable snapshot"});
      return;
    }
    n.sm = std::move(*sm);
  }
  n.applied = snap.metadata.index;
  n.conf = n.storage.initial_state().conf_state;
  n.soft = raft::SoftState{};
  n.leader_term = 0;
  raft::Config cfg;
  cfg.id = n.id;
  cfg.election_ticks = kElectionTicks;
  cfg.heartbeat_ticks = kHeartbeatTicks;
  cfg.storage = &n.storage;
  cfg.applied = n.applied;
  cfg.rng_seed = node_rng_.next();
  cfg.async_storage_writes = opt_.async_leader_writes;
  const bool promises = opt_.lease_promise_nodes == 0 || n.id <= static_cast<NodeId>(opt_.lease_promise_nodes);
  cfg.lease_promise_ticks = promises ? opt_.lease_promise_ticks : 0;
  // The sim's ticks are its time unit: (W - 1) ticks guaranteed.
  if (cfg.lease_promise_ticks > 0) cfg.lease_promise_ms = static_cast<uint16_t>(std::max(1, cfg.lease_promise_ticks - 1));
  n.lease.reset();  // a restart forgets every stamp
  if (opt_.lease_reads && cfg.lease_promise_ticks > 0) {
    n.lease.emplace(server::ReadLease::length_for(cfg.lease_promise_ms, server::kReadLeaseDriftMarginPermille));
  }
  n.writes.clear();
  n.written_hs = n.storage.initial_state().hard_state;
  cfg.testing_unsafe_commit_without_quorum = opt_.break_mode == BreakMode::kCommitWithoutQuorum;
  cfg.testing_unsafe_vote_ignores_log = opt_.break_mode == BreakMode::kVoteIgnoresLog;
  n.raw = std::make_unique<raft::RawNode>(cfg);
  n.up = true;
  ++n.incarnation;
  trace_.line(now_, node_name(n.id) + " start (incarnation " + std::to_string(n.incarnation) +
                        ") applied=" + std::to_string(n.applied) + " last=" +
                        std::to_string(n.storage.last_index()) + " " + conf_text(n.conf));
}

// Volatile state is gone; the disk keeps only what the last sync made
// durable.
void Simulation::crash(SimNode& n, const std::string& where) {
  ++stats_.crashes;
  drop_pending(n);
  n.writes.clear();
  n.raw.reset();
  n.up = false;
  n.storage = n.durable;
  n.soft = raft::SoftState{};
  n.leader_term = 0;
  n.restart_at = now_ + fault_rng_.between(plan_.min_down_ticks, plan_.max_down_ticks);
  trace_.line(now_, node_name(n.id) + " crash " + where + ", durable last=" +
                        std::to_string(n.durable.last_index()) + ", restart at " +
                        std::to_string(n.restart_at));
}

void Simulation::drop_pending(SimNode& n) {
  for (Client& c : clients_) {
    if (c.busy && c.node == n.id) client_abandon(c);
  }
}

void Simulation::on_role(SimNode& n, const raft::SoftState& soft) {
  const bool was_leader = n.soft.role == raft::Role::kLeader;
  n.soft = soft;
  if (soft.role != raft::Role::kLeader) {
    if (was_leader) trace_.line(now_, node_name(n.id) + " steps down");
    n.leader_term = 0;
    return;
  }
  if (was_leader) return;
  n.leader_term = n.raw->status().hard_state.term;
  ++stats_.elections;
  if (last_leader_ != raft::kNoNode && last_leader_ != n.id) ++stats_.leader_changes;
  last_leader_ = n.id;
  trace_.line(now_, node_name(n.id) + " leader of term " + std::to_string(n.leader_term));
}

void Simulation::send(SimNode& n, const raft::Message& m) {
  const bool blocked = net_.blocked(m.from, m.to);
  if (m.type == raft::MessageType::kSnapshot) {
    ++stats_.snapshots_sent;
    trace_.line(now_, node_name(n.id) + " sends snapshot " +
                          std::to_string(m.snapshot ? m.snapshot->metadata.index : 0) + " to " +
                          node_name(m.to) + (blocked ? " (link cut)" : node(m.to).up ? "" : " (node down)"));
  }
  net_.send(m, now_);
  if (m.type == raft::MessageType::kSnapshot) n.raw->report_snapshot(m.to, !blocked);
  if (blocked) n.raw->report_unreachable(m.to);
}

void Simulation::persist(SimNode& n, const raft::Ready& rd) {
  if (rd.snapshot) {
    raft::Status st = n.storage.apply_snapshot(*rd.snapshot);
    if (st != raft::Status::kOk) {
      fail({"ready contract", node_name(n.id) + " cannot persist snapshot at " +
                                  std::to_string(rd.snapshot->metadata.index) + ": " +
                                  raft::status_name(st)});
      return;
    }
  }
  if (!rd.entries.empty()) {
    raft::Status st = n.storage.append(rd.entries);
    if (st != raft::Status::kOk) {
      fail({"ready contract", node_name(n.id) + " cannot append entries " +
                                  std::to_string(rd.entries.front().index) + ".." +
                                  std::to_string(rd.entries.back().index) + " to a log ending at " +
                                  std::to_string(n.storage.last_index()) + ": " +
                                  raft::status_name(st)});
      return;
    }
  }
  if (rd.hard_state) {
    n.storage.set_hard_state(*rd.hard_state);
    n.written_hs = *rd.hard_state;
  }
}

// The server's rule: a leader's Ready without a snapshot or a term/vote
// change goes to the writer; its messages leave at once.
bool Simulation::write_async(SimNode& n, const raft::Ready& rd) {
  if (!opt_.async_leader_writes || n.soft.role != raft::Role::kLeader || rd.snapshot) return false;
  if (rd.hard_state && (rd.hard_state->term != n.written_hs.term || rd.hard_state->vote != n.written_hs.vote)) {
    return false;
  }
  if (rd.entries.empty() && !rd.hard_state) return true;
  SimNode::Write w;
  w.entries = rd.entries;
  w.hard_state = rd.hard_state;
  w.due = now_ + node_rng_.below(4);
  n.writes.push_back(std::move(w));
  return true;
}

// Finishes the due writes (all of them before a synchronous write, which
// must come after them) in order: written, synced, reported to raft.
void Simulation::finish_writes(SimNode& n, bool all) {
  while (!n.writes.empty() && (all || n.writes.front().due <= now_)) {
    SimNode::Write w = std::move(n.writes.front());
    n.writes.pop_front();
    raft::Ready rd;
    rd.entries = std::move(w.entries);
    rd.hard_state = w.hard_state;
    persist(n, rd);
    if (failed()) return;
    if (opt_.break_mode != BreakMode::kSkipSync) n.durable = n.storage;
    trace_.mix(0xA5A5 ^ (rd.entries.empty() ? 0 : rd.entries.back().index));
    if (!rd.entries.empty()) n.raw->advance_append(rd.entries.back().index, rd.entries.back().term);
  }
}

// The log as the node's raft sees it: written entries plus those its writer
// still holds (a leader has every committed entry there, maybe not on disk).
const raft::MemoryStorage& Simulation::log_view(SimNode& n) {
  if (n.writes.empty()) return n.storage;
  scratch_log_ = n.storage;
  for (const SimNode::Write& w : n.writes) CORRAL_CHECK(scratch_log_.append(w.entries) == raft::Status::kOk);
  return scratch_log_;
}

void Simulation::apply_entry(SimNode& n, const raft::Entry& e) {
  const bool known = safety_.committed().count(e.index) != 0;
  if (auto v = safety_.on_committed(n.id, e)) return fail(*v);
  if (!known) {
    stats_.commits = std::max(stats_.commits, e.index);
    if (e.type == raft::EntryType::kConfChange) ++stats_.membership_changes;
    for (SimNode& l : nodes_) {
      if (!l.up || l.soft.role != raft::Role::kLeader) continue;
      if (auto v = safety_.check_leader_has(l.id, l.leader_term, log_view(l), e.index)) return fail(*v);
    }
  }
  if (auto v = safety_.on_apply(n.id, n.applied, e)) return fail(*v);
  n.applied = e.index;
  if (e.type == raft::EntryType::kConfChange) {
    std::optional<raft::ConfChange> cc = raft::decode_conf_change(e.data);
    if (!cc) return fail({"entry format", "undecodable conf change at " + std::to_string(e.index)});
    n.conf = n.raw->apply_conf_change(*cc);
    trace_.line(now_, node_name(n.id) + " applies conf change at " + std::to_string(e.index) +
                          " -> " + conf_text(n.conf));
    return;
  }
  if (e.data.empty()) return;  // a leader's no-op
  std::optional<PutCommand> put = decode_put(e.data);
  if (!put) return fail({"entry format", "undecodable command at " + std::to_string(e.index)});
  if (!n.sm.apply(*put) && opt_.check_duplicate_apply) {
    return fail({"duplicate apply", node_name(n.id) + " applies put(" + put->key + ", " + put->value +
                                        ") again at index " + std::to_string(e.index)});
  }
  auto it = n.pending_puts.find(put->value);
  if (it != n.pending_puts.end()) client_finish(clients_[it->second], "", 0, e.index);
}

void Simulation::apply(SimNode& n, const raft::Ready& rd) {
  if (rd.snapshot) {
    const raft::Snapshot& snap = *rd.snapshot;
    auto sm = KvStateMachine::deserialize(snap.data);
    if (!sm) return fail({"snapshot format", node_name(n.id) + " received an unreadable snapshot"});
    if (snap.metadata.index <= n.applied) {
      return fail({"ready contract", node_name(n.id) + " told to install snapshot " +
                                         std::to_string(snap.metadata.index) + " having applied " +
                                         std::to_string(n.applied)});
    }
    n.sm = std::move(*sm);
    n.applied = snap.metadata.index;
    n.conf = snap.metadata.conf_state;
    ++stats_.snapshots_installed;
    trace_.line(now_, node_name(n.id) + " installs snapshot at " + std::to_string(n.applied) +
                          " term " + std::to_string(snap.metadata.term));
  }
  for (const raft::Entry& e : rd.committed_entries) {
    apply_entry(n, e);
    if (failed() || !n.up) return;
  }
  for (const raft::ReadState& rs : rd.read_states) {
    auto it = n.pending_reads.find(rs.request_ctx);
    if (it == n.pending_reads.end()) continue;
    n.ready_reads.push_back({rs.index, it->second});
    n.pending_reads.erase(it);
  }
  for (size_t i = 0; i < n.ready_reads.size();) {
    const PendingRead r = n.ready_reads[i];
    if (r.index > n.applied) {
      ++i;
      continue;
    }
    n.ready_reads.erase(n.ready_reads.begin() + static_cast<long>(i));
    Client& c = clients_[r.client];
    const std::string& key = history_.op(c.op).key;
    client_finish(c, n.sm.get(key), n.sm.version(key), r.index);
  }
  maybe_snapshot(n);
}

// Periodic snapshot and compaction; the snapshot is written and synced at
// once, together with everything written before it.
void Simulation::maybe_snapshot(SimNode& n) {
  auto cur = n.storage.snapshot();
  const Index snap_index = cur.ok() ? cur.value().metadata.index : 0;
  // Also snapshot after a membership change: raft refuses a snapshot whose
  // membership lacks the receiver, so a re-added learner needs a newer one.
  const bool conf_changed = cur.ok() && !cur.value().empty() && cur.value().metadata.conf_state != n.conf;
  if ((n.applied < snap_index + kSnapshotIntervalEntries && !conf_changed) || n.applied <= snap_index ||
      n.applied > n.storage.last_index())
    return;
  auto made = n.storage.create_snapshot(n.applied, n.conf, n.sm.serialize());
  if (!made.ok()) {
    return fail({"storage", node_name(n.id) + " cannot snapshot at " + std::to_string(n.applied) +
                                ": " + raft::status_name(made.status())});
  }
  const Index compact_to = n.applied - kEntriesKeptAfterSnapshot;
  if (compact_to >= n.storage.first_index()) {
    raft::Status st = n.storage.compact(compact_to);
    if (st != raft::Status::kOk) {
      return fail({"storage", node_name(n.id) + " cannot compact to " + std::to_string(compact_to)});
    }
  }
  if (opt_.break_mode != BreakMode::kSkipSync) n.durable = n.storage;
  trace_.line(now_, node_name(n.id) + " snapshot at " + std::to_string(n.applied) +
                        ", log from " + std::to_string(n.storage.first_index()));
}

// One Ready, in the order of ready.h, with crash points where a real process
// could die: before anything is written, after writing but before the sync,
// and after applying but before advance().
void Simulation::handle_ready(SimNode& n) {
  raft::Ready rd = n.raw->ready();
  // Before this Ready's heartbeats leave: stamps their read rounds.
  if (n.lease) n.lease->observe(n.raw->lease_basis(), lease_clock(n));
  trace_.mix(n.id);
  trace_.mix(rd.entries.size() * 1000003 + rd.committed_entries.size() * 1009 + rd.messages.size());
  if (rd.hard_state) {
    trace_.mix(rd.hard_state->term);
    trace_.mix(rd.hard_state->commit);
  }
  auto crash_point = [&](const char* where) {
    if (liveness_phase_ ||
        fault_rng_.below(kPerTenThousand) >= plan_.crash_in_ready_per_ten_thousand)
      return false;
    ++stats_.crashes_in_ready;
    crash(n, where);
    return true;
  };
  if (rd.soft_state) on_role(n, *rd.soft_state);
  if (write_async(n, rd)) {
    for (const raft::Message& m : rd.messages) send(n, m);
    if (n.soft.role == raft::Role::kLeader && rd.soft_state) {
      if (auto v = safety_.on_leader(n.id, n.leader_term, log_view(n))) return fail(*v);
    }
    apply(n, rd);
    if (failed() || !n.up) return;
    if (crash_point("after applying, before advance")) return;
    n.raw->advance();
    return;
  }
  finish_writes(n, true);
  if (failed()) return;
  // A leader may send its appends before its own write is durable.
  for (const raft::Message& m : rd.messages) {
    if (m.type == raft::MessageType::kAppend) send(n, m);
  }
  if (crash_point("before persisting a ready")) return;
  persist(n, rd);
  if (failed()) return;
  if (n.soft.role == raft::Role::kLeader && rd.soft_state) {
    if (auto v = safety_.on_leader(n.id, n.leader_term, n.storage)) return fail(*v);
  }
  if (crash_point("after writing, before sync")) return;
  if (rd.must_sync && opt_.break_mode != BreakMode::kSkipSync) n.durable = n.storage;
  for (const raft::Message& m : rd.messages) {
    if (m.type != raft::MessageType::kAppend) send(n, m);
  }
  apply(n, rd);
  if (failed() || !n.up) return;
  if (crash_point("after applying, before advance")) return;
  n.raw->advance();
  if (opt_.async_leader_writes && !rd.entries.empty()) {
    n.raw->advance_append(rd.entries.back().index, rd.entries.back().term);
  }
}

void Simulation::deliver() {
  for (raft::Message& m : net_.deliver_due(now_)) {
    trace_.mix((static_cast<uint64_t>(m.type) << 56) ^ (m.from << 48) ^ (m.to << 40) ^ m.index);
    trace_.mix(m.term ^ (m.log_term << 20) ^ (m.commit << 40) ^ m.entries.size());
    // Only when set: runs without lease reads keep their trace hashes.
    if (m.lease_promise_ms != 0) trace_.mix(0x1EA5E000 ^ m.lease_promise_ms);
    if (m.to == 0 || m.to > nodes_.size()) continue;
    SimNode& n = node(m.to);
    if (!n.up || now_ < n.deaf_until) continue;
    raft::Status st = n.raw->step(m);
    trace_.mix(static_cast<uint64_t>(st));
    if (m.type == raft::MessageType::kSnapshot) {
      const raft::NodeStatus s = n.raw->status();
      trace_.line(now_, node_name(n.id) + " steps snapshot " +
                            std::to_string(m.snapshot ? m.snapshot->metadata.index : 0) +
                            " of term " + std::to_string(m.term) + " from " + node_name(m.from) +
                            ": " + raft::status_name(st) + "; its term " +
                            std::to_string(s.hard_state.term) + " commit " +
                            std::to_string(s.hard_state.commit) + " " + raft::role_name(s.soft_state.role));
    }
  }
}

SimNode* Simulation::current_leader() {
  SimNode* best = nullptr;
  for (SimNode& n : nodes_) {
    if (n.up && !paused(n) && n.soft.role == raft::Role::kLeader && (!best || n.leader_term > best->leader_term))
      best = &n;
  }
  return best;
}

void Simulation::start_partition() {
  std::vector<NodeId> ids = all_ids();
  const uint64_t kind = fault_rng_.below(4);
  std::string what;
  if (kind == 0) {
    // Symmetric split into a random minority and the rest.
    std::vector<NodeId> side;
    const size_t size = 1 + fault_rng_.below(ids.size() / 2);
    std::vector<NodeId> pool = ids;
    for (size_t i = 0; i < size; ++i) {
      const size_t k = fault_rng_.below(pool.size());
      side.push_back(pool[k]);
      pool.erase(pool.begin() + static_cast<long>(k));
    }
    std::sort(side.begin(), side.end());
    net_.partition(side, ids);
    what = "split off";
    for (NodeId id : side) what += " " + node_name(id);
  } else if (kind == 1) {
    // Isolate the leader.
    SimNode* l = current_leader();
    const NodeId id = l ? l->id : ids[fault_rng_.below(ids.size())];
    net_.partition({id}, ids);
    what = "isolate " + node_name(id);
  } else if (kind == 2) {
    // Asymmetric: one node can send but not receive (or the reverse).
    const NodeId id = ids[fault_rng_.below(ids.size())];
    const bool deaf = fault_rng_.below(2) == 0;
    for (NodeId o : ids) {
      if (o == id) continue;
      if (deaf) net_.block(o, id);
      else net_.block(id, o);
    }
    what = (deaf ? "deafen " : "mute ") + node_name(id);
  } else {
    // Asymmetric: a few random directed links.
    const uint64_t links = 1 + fault_rng_.below(ids.size());
    what = "cut links";
    for (uint64_t i = 0; i < links; ++i) {
      const NodeId a = ids[fault_rng_.below(ids.size())];
      const NodeId b = ids[fault_rng_.below(ids.size())];
      if (a == b) continue;
      net_.block(a, b);
      what += " " + node_name(a) + "->" + node_name(b);
    }
  }
  ++stats_.partitions;
  partitioned_ = true;
  partition_until_ = now_ + fault_rng_.between(plan_.min_partition_ticks, plan_.max_partition_ticks);
  trace_.line(now_, "partition: " + what + " until " + std::to_string(partition_until_));
}

void Simulation::faults() {
  for (SimNode& n : nodes_) {
    if (!n.up && now_ >= n.restart_at) start_node(n);
  }
  if (partitioned_ && now_ >= partition_until_) {
    net_.heal();
    partitioned_ = false;
    trace_.line(now_, "partition healed");
  }
  if (!partitioned_ && fault_rng_.chance_per_mille(plan_.partition_per_mille_per_tick)) start_partition();
  if (fault_rng_.chance_per_mille(plan_.crash_per_mille_per_tick)) {
    SimNode& n = nodes_[fault_rng_.below(nodes_.size())];
    if (n.up) crash(n, "between ready turns");
  }
  if (fault_rng_.chance_per_mille(plan_.network_change_per_mille_per_tick)) {
    NetworkConfig c = net_.config();
    c.max_delay_ticks = fault_rng_.between(1, 2 * kElectionTicks);  // sometimes slower than a timeout
    c.drop_per_mille = fault_rng_.between(0, 200);
    net_.set_config(c);
    trace_.line(now_, "network delay<=" + std::to_string(c.max_delay_ticks) + " drop=" +
                          std::to_string(c.drop_per_mille) + "/1000");
  } else if (fault_rng_.chance_per_mille(plan_.network_change_per_mille_per_tick * 3)) {
    net_.set_config(plan_.network);
  }
  if (fault_rng_.chance_per_mille(plan_.transfer_per_mille_per_tick)) {
    SimNode* l = current_leader();
    if (l && l->conf.voters.size() > 1) {
      const NodeId to = l->conf.voters[fault_rng_.below(l->conf.voters.size())];
      if (to != l->id) {
        ++stats_.transfers;
        trace_.line(now_, node_name(l->id) + " transfers leadership to " + node_name(to));
        l->raw->transfer_leader(to);
      }
    }
  }
  if (fault_rng_.chance_per_mille(plan_.membership_per_mille_per_tick)) membership();
  if (opt_.lease_reads) maybe_pause();
  if (opt_.lease_edge_faults && !partitioned_ && fault_rng_.chance_per_mille(kLeaseEdgePerMillePerTick)) {
    cut_off_leader_with_notice();
  }
}

// The case where a read lease has the least room: the leader is cut off
// and the others learn at once that its connection dropped (corrald then
// calls forget_leader), so CheckQuorum's own lease does not hold them back:
// the first campaigns as soon as its promise ends. The cut-off leader runs
// on, believing it leads, serving gets from its lease until its clock ends
// it. Drawn only with SimOptions::lease_edge_faults.
void Simulation::cut_off_leader_with_notice() {
  SimNode* l = current_leader();
  if (!l) return;
  net_.partition({l->id}, all_ids());
  for (SimNode& n : nodes_) {
    if (n.id != l->id && n.up && !paused(n)) n.raw->forget_leader();
  }
  ++stats_.partitions;
  partitioned_ = true;
  partition_until_ = now_ + fault_rng_.between(2 * kElectionTicks, 4 * kElectionTicks);
  trace_.line(now_, "partition: cut off " + node_name(l->id) + " with notice until " + std::to_string(partition_until_));
}

// The hazard a read lease's clock guards against: the leader stops for 2-4
// election timeouts (the others elect and commit meanwhile), then runs again
// hearing nothing for up to one more, with its CheckQuorum count where it
// stopped. Drawn only with lease reads, so other runs keep their traces.
void Simulation::maybe_pause() {
  for (const SimNode& n : nodes_) {
    if (n.deaf_until > now_) return;  // one at a time
  }
  if (!fault_rng_.chance_per_mille(kPausePerMillePerTick)) return;
  SimNode* l = current_leader();
  SimNode& n = l ? *l : nodes_[fault_rng_.below(nodes_.size())];
  if (!n.up) return;
  n.paused_until = now_ + fault_rng_.between(2 * kElectionTicks, 4 * kElectionTicks);
  n.deaf_until = n.paused_until + fault_rng_.between(0, kElectionTicks);
  trace_.line(now_, node_name(n.id) + " paused until " + std::to_string(n.paused_until) + ", deaf until " +
                        std::to_string(n.deaf_until));
}

// Removes a member, adds it back as a learner, then promotes it: one change
// at a time, driven from the leader's applied membership.
void Simulation::membership() {
  SimNode* l = current_leader();
  if (!l) return;
  const raft::ConfState& cs = l->conf;
  std::optional<raft::ConfChange> cc;
  for (NodeId id : all_ids()) {
    if (contains(cs.learners, id)) {
      for (const raft::PeerProgress& p : l->raw->status().progress) {
        if (p.id == id && p.match + kPromoteLagEntries >= l->applied) {
          cc = raft::ConfChange{raft::ConfChangeType::kAddNode, id, {}};
        }
      }
      if (!cc) return;  // wait for the learner to catch up
      break;
    }
    if (!contains(cs.voters, id)) {
      cc = raft::ConfChange{raft::ConfChangeType::kAddLearner, id, {}};
      break;
    }
  }
  if (!cc) {
    // Everybody is a voter: remove one (sometimes the leader itself).
    const NodeId id = cs.voters[fault_rng_.below(cs.voters.size())];
    cc = raft::ConfChange{raft::ConfChangeType::kRemoveNode, id, {}};
  }
  raft::Status st = l->raw->propose_conf_change(*cc);
  static const char* kNames[] = {"add voter", "add learner", "remove"};
  trace_.line(now_, node_name(l->id) + " proposes " + kNames[static_cast<int>(cc->type)] + " " +
                        node_name(cc->node_id) + ": " + raft::status_name(st));
}

NodeId Simulation::leader_hint(NodeId asked) {
  if (asked != raft::kNoNode) {
    const SimNode& n = node(asked);
    if (n.up && n.soft.leader != raft::kNoNode && n.soft.leader != asked) return n.soft.leader;
  }
  return 1 + client_rng_.below(nodes_.size());
}

void Simulation::client_start(Client& c) {
  const bool put = c.probe ? !c.probe_put_done : client_rng_.below(100) < 60;
  const std::string key = c.probe ? "probe" : "k" + std::to_string(client_rng_.below(kKeys));
  std::string value;
  if (put) value = "c" + std::to_string(c.id) + "." + std::to_string(++c.seq);
  c.op = history_.invoke(static_cast<uint64_t>(c.id), put ? OpKind::kPut : OpKind::kGet, key, value, now_);
  c.is_put = put;
  // Lease reads: gets go to any node, so that some reach a deposed leader
  // that still believes it leads while others' puts commit at the new one
  // (the hazard a lease must rule out). Off: the runs stay as they were.
  if (opt_.lease_reads && !put && !c.probe) c.target = 1 + client_rng_.below(nodes_.size());
  c.node = c.target;
  SimNode& n = node(c.target);
  std::string what = "client " + std::to_string(c.id) + " " +
                     (put ? "put(" + key + ", " + value + ")" : "get(" + key + ")") + " at " +
                     node_name(n.id);
  if (!n.up || paused(n)) {  // a paused node takes no request either
    history_.discard(c.op);
    c.target = leader_hint(raft::kNoNode);
    c.next_start = now_ + 1;
    trace_.line(now_, what + ": node down");
    return;
  }
  if (put) {
    raft::Status st = n.raw->propose(encode_put({key, value}));
    if (st != raft::Status::kOk) {
      history_.discard(c.op);  // refused before entering any log
      c.target = leader_hint(n.id);
      c.next_start = now_ + 1;
      trace_.line(now_, what + ": " + raft::status_name(st));
      return;
    }
    c.token = value;
    n.pending_puts[value] = c.id;
    if (opt_.break_mode == BreakMode::kResendPuts) {
      // A client that resends a write without deduplication.
      raft::Status again = n.raw->propose(encode_put({key, value}));
      trace_.line(now_, what + ": sent twice (" + raft::status_name(again) + ")");
    }
  } else if (opt_.break_mode == BreakMode::kStaleReads) {
    c.busy = true;
    trace_.line(now_, what);
    client_finish(c, n.sm.get(key), n.sm.version(key), n.applied);
    return;
  } else if (lease_read(n, c)) {
    what += " (lease)";
  } else {
    c.token = "r" + std::to_string(c.op);
    c.asked_leader_term = n.leader_term;
    n.pending_reads[c.token] = c.id;
    n.raw->read_index(c.token);
  }
  c.busy = true;
  c.deadline = now_ + kOpTimeoutTicks;
  trace_.line(now_, what);
}

// A get at a leader that holds a read lease, as corrald's
// serve_reads_from_lease: at the commit index of now, served once applied.
bool Simulation::lease_read(SimNode& n, Client& c) {
  if (!n.lease) return false;
  const raft::LeaseBasis basis = n.raw->lease_basis();
  n.lease->observe(basis, lease_clock(n));
  const bool valid = opt_.break_mode == BreakMode::kLeaseIgnoresClock
                         ? basis.eligible && basis.confirmed_round > 0
                         : n.lease->valid(basis, lease_clock(n));
  if (!valid) return false;
  c.token = "l" + std::to_string(c.op);
  c.asked_leader_term = n.leader_term;
  n.ready_reads.push_back({std::max<Index>(basis.commit, 1), c.id});
  ++stats_.lease_reads;
  return true;
}

void Simulation::client_finish(Client& c, const std::string& observed, uint64_t version, Index index) {
  SimNode& n = node(c.node);
  if (c.is_put) {
    n.pending_puts.erase(c.token);
    acked_.push_back({history_.op(c.op).key, c.token, index, n.id});
    if (c.probe) c.probe_put_done = true;
  } else {
    if (c.probe) c.probe_get_done = true;
  }
  if (c.is_put) {
    history_.complete(c.op, now_, observed);
  } else {
    history_.complete(c.op, now_, observed, version);
  }
  ++stats_.ops_acknowledged;
  c.busy = false;
  c.next_start = now_ + 1 + client_rng_.below(kClientThinkTicksMax);
  trace_.line(now_, "client " + std::to_string(c.id) + " ok " + describe(history_.op(c.op)) +
                        " at index " + std::to_string(index));
}

void Simulation::client_abandon(Client& c) {
  SimNode& n = node(c.node);
  n.pending_puts.erase(c.token);
  n.pending_reads.erase(c.token);
  for (size_t i = 0; i < n.ready_reads.size(); ++i) {
    if (n.ready_reads[i].client == c.id) {
      n.ready_reads.erase(n.ready_reads.begin() + static_cast<long>(i));
      break;
    }
  }
  history_.abandon(c.op);
  c.busy = false;
  c.target = leader_hint(raft::kNoNode);
  c.next_start = now_ + 1;
  trace_.line(now_, "client " + std::to_string(c.id) + " gives up on op#" + std::to_string(c.op));
}

// A get asked of a leader that is still up and still leads the same term
// must not time out: with CheckQuorum it has heard from a quorum every
// election timeout, and every heartbeat since the read arrived could have
// confirmed it. A lost ReadIndex round must cost a heartbeat, not the
// client's deadline.
void Simulation::client_timeout(Client& c) {
  if (!c.is_put) {
    ++stats_.reads_timed_out;
    const SimNode& n = node(c.node);
    // A pause or its deaf time since the read was asked stalls any read.
    const bool paused_since = n.deaf_until > c.deadline - kOpTimeoutTicks;
    if (c.asked_leader_term != 0 && n.up && n.leader_term == c.asked_leader_term && !paused_since) {
      return fail({"read stalled", describe(history_.op(c.op)) + " waited " + std::to_string(kOpTimeoutTicks) +
                                       " ticks at " + node_name(n.id) + ", leader of term " +
                                       std::to_string(n.leader_term) + " throughout"});
    }
  }
  client_abandon(c);
}

void Simulation::clients() {
  for (Client& c : clients_) {
    if (c.busy && now_ >= c.deadline) client_timeout(c);
    if (failed()) return;
    if (c.busy || now_ < c.next_start) continue;
    if (c.probe ? !liveness_phase_ || c.probe_get_done : liveness_phase_) continue;
    client_start(c);
  }
}

void Simulation::check_logs() {
  std::vector<std::pair<NodeId, const raft::LogStorage*>> logs;
  for (const SimNode& n : nodes_) logs.push_back({n.id, n.up ? &n.storage : &n.durable});
  if (auto v = safety_.check_logs(logs)) fail(*v);
}

void Simulation::final_checks() {
  check_logs();
  if (failed()) return;
  // No acknowledged write lost: the node that has applied the most (it has
  // applied at least the liveness probe's write, which follows every earlier
  // acknowledgement) must hold every acknowledged value.
  const SimNode* most = nullptr;
  for (const SimNode& n : nodes_) {
    if (n.up && (!most || n.applied > most->applied)) most = &n;
  }
  for (const AckedPut& a : acked_) {
    if (!most || a.index > most->applied || !most->sm.wrote(a.key, a.value)) {
      return fail({"acknowledged write lost",
                   "put(" + a.key + ", " + a.value + ") acknowledged by " + node_name(a.node) +
                       " at index " + std::to_string(a.index) + " is not in the state of " +
                       (most ? node_name(most->id) + " (applied " + std::to_string(most->applied) + ")"
                             : std::string("any node"))});
    }
  }
  std::vector<Operation> ops = history_.operations();
  stats_.ops_checked = ops.size();
  LinearizabilityResult lin = check_linearizable(ops);
  if (!lin.ok) {
    fail({lin.exhausted ? "linearizability (search bound reached)" : "linearizability",
          "key " + lin.key + ": " + lin.detail});
  }
}

SimResult Simulation::run() {
  plan_ = draw_fault_plan(fault_rng_);
  net_.set_config(plan_.network);
  trace_.line(0, "seed " + std::to_string(opt_.seed) + ", " + std::to_string(opt_.nodes) +
                     " nodes, drop=" + std::to_string(plan_.network.drop_per_mille) +
                     "/1000 dup=" + std::to_string(plan_.network.duplicate_per_mille) +
                     "/1000 delay<=" + std::to_string(plan_.network.max_delay_ticks));
  raft::ConfState initial;
  for (int i = 1; i <= opt_.nodes; ++i) initial.voters.push_back(static_cast<NodeId>(i));
  nodes_.resize(static_cast<size_t>(opt_.nodes));
  // Clock rates from a stream of their own: without drift nothing is drawn
  // and every other stream, so the trace, stays as it was.
  const uint64_t drift = static_cast<uint64_t>(std::max(0, std::min(opt_.clock_drift_permille, 900)));
  Rng clock_rng = drift > 0 ? rng_.fork(5) : Rng(0);
  for (int i = 0; i < opt_.nodes; ++i) {
    SimNode& n = nodes_[static_cast<size_t>(i)];
    n.id = static_cast<NodeId>(i + 1);
    n.durable.set_conf_state(initial);
    if (drift > 0) {
      n.clock_rate_permille = 1000 - drift + clock_rng.below(2 * drift + 1);
      trace_.line(0, node_name(n.id) + " clock rate " + std::to_string(n.clock_rate_permille) + "/1000");
    }
    start_node(n);
  }
  for (int i = 0; i <= kClients; ++i) {
    Client c;
    c.id = i;
    c.probe = i == kClients;
    c.target = 1 + client_rng_.below(nodes_.size());
    clients_.push_back(c);
  }
  const Tick end_of_faults = opt_.fault_ticks;
  Tick liveness_deadline = 0;
  std::vector<size_t> order(nodes_.size());
  for (now_ = 1; !failed(); ++now_) {
    if (now_ == end_of_faults + 1) {
      liveness_phase_ = true;
      liveness_deadline = now_ + kLivenessBoundTicks;
      net_.heal();
      partitioned_ = false;
      net_.set_config({0, 0, 0, 2, kMaxInFlightMessages});
      for (SimNode& n : nodes_) {
        n.paused_until = 0;
        n.deaf_until = 0;
        if (!n.up) start_node(n);
      }
      trace_.line(now_, "liveness phase: healed, all nodes up, until " + std::to_string(liveness_deadline));
    }
    if (!liveness_phase_) faults();
    deliver();
    for (SimNode& n : nodes_) {
      if (!n.up || paused(n)) continue;
      for (uint64_t t = ticks_due(n); t > 0; --t) n.raw->tick();
    }
    clients();
    for (int round = 0; round < kMaxReadyRoundsPerTick && !failed(); ++round) {
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[node_rng_.below(i)]);
      bool any = false;
      for (size_t i : order) {
        SimNode& n = nodes_[i];
        if (paused(n)) continue;
        if (n.up && !n.writes.empty() && n.writes.front().due <= now_) {
          finish_writes(n, false);
          if (failed()) break;
        }
        if (!n.up || !n.raw->has_ready()) continue;
        any = true;
        handle_ready(n);
        if (failed()) break;
      }
      if (!any) break;
    }
    if (failed()) break;
    if (now_ % kLogCheckIntervalTicks == 0) check_logs();
    if (liveness_phase_) {
      const Client& probe = clients_.back();
      if (probe.probe_get_done) {
        trace_.line(now_, "liveness: write committed and read served");
        break;
      }
      if (now_ >= liveness_deadline) {
        fail({"liveness", std::string("after healing, no ") +
                              (probe.probe_put_done ? "read served" : "write committed") + " within " +
                              std::to_string(kLivenessBoundTicks) + " ticks"});
        break;
      }
    }
  }
  stats_.ticks = now_;
  if (!failed()) final_checks();
  if (stats_.ops_checked == 0) stats_.ops_checked = history_.operations().size();
  result_.trace_hash = trace_.hash();
  if (opt_.keep_trace) result_.trace = trace_.text();
  return result_;
}

}  // namespace

void SimStats::add(const SimStats& o) {
  ops_checked += o.ops_checked;
  ops_acknowledged += o.ops_acknowledged;
  commits += o.commits;
  elections += o.elections;
  leader_changes += o.leader_changes;
  crashes += o.crashes;
  crashes_in_ready += o.crashes_in_ready;
  snapshots_sent += o.snapshots_sent;
  snapshots_installed += o.snapshots_installed;
  membership_changes += o.membership_changes;
  transfers += o.transfers;
  partitions += o.partitions;
  reads_timed_out += o.reads_timed_out;
  lease_reads += o.lease_reads;
  ticks += o.ticks;
}

SimResult run_simulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.run();
}

}  // namespace corral::sim
