// One simulated run: N raft nodes in one thread, a simulated network, disks
// that lose unsynced writes on a crash, clients with a recorded history, and
// the checkers, all driven from one 64-bit seed and a tick counter.
//
// A run has two phases. The fault phase (SimOptions::fault_ticks) crashes and
// restarts nodes (also in the middle of handling a Ready), partitions the
// network (symmetric and asymmetric), drops, delays and duplicates messages,
// removes and re-adds members, and transfers leadership, while clients write
// and read. The liveness phase heals everything and demands that a new write
// commits and a linearizable read is served within kLivenessBoundTicks.
#pragma once

#include <cstdint>
#include <string>

namespace corral::sim {

// Deliberate bugs, to prove the checkers can fail. The first two switch on
// raft's test-only Config knobs; the next two break the simulated server:
// reads served from local state without ReadIndex, and Ready writes never
// synced (a crash forgets votes and entries); the last breaks the client: it
// proposes every put twice (a resend without deduplication), so a write is
// applied twice. kLeaseIgnoresClock (with lease_reads): a leader serves
// gets from a lease confirmed once in its term, however long ago.
enum class BreakMode : uint8_t {
  kNone,
  kCommitWithoutQuorum,
  kVoteIgnoresLog,
  kStaleReads,
  kSkipSync,
  kResendPuts,
  kLeaseIgnoresClock,
};

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;
  uint64_t fault_ticks = 1000;
  bool keep_trace = false;  // keep the readable trace text (the hash is always kept)
  BreakMode break_mode = BreakMode::kNone;
  // The state machine's own check that no put is applied twice. Off only to
  // show that the linearizability checker sees a duplicate on its own.
  bool check_duplicate_apply = true;
  // A leader's log writes finish 0..3 ticks after its Ready, as on a writer
  // thread (raft::Config::async_storage_writes): it sends and applies
  // meanwhile; everyone else writes before sending, as in the server.
  bool async_leader_writes = false;
  // raft::Config::lease_promise_ticks of every node (0: off).
  int lease_promise_ticks = 0;
  // Only nodes 1..lease_promise_nodes make the promise (and serve lease
  // reads); 0: every node. A mixed cluster, as members without --read-lease.
  int lease_promise_nodes = 0;
  // A leader with the promise serves gets from its read lease while it holds
  // one (server/read_lease.h, the sim's tick as 1 ms of its clock), at its
  // commit index, once applied: corrald's --read-lease.
  bool lease_reads = false;
  // Each node's clock runs at its own rate, drawn once per run in
  // [1000 - d, 1000 + d] thousandths of the simulated time: its ticks (so
  // its election timer and its lease promise) and its read lease's clock.
  // 0: every clock exact (the traces of earlier runs stay the same). The
  // lease allows a leader's clock 10% slower than a voter's
  // (server::kReadLeaseDriftMarginPermille): safe up to d = 52.
  int clock_drift_permille = 0;
  // Adds a fault aimed at the read lease's margin (with lease_reads): the
  // leader cut off while the others are told its connection dropped, so
  // they elect as soon as their promise ends.
  bool lease_edge_faults = false;
};

struct SimStats {
  uint64_t ops_checked = 0;        // client operations in the checked history
  uint64_t ops_acknowledged = 0;   // of which completed (not unknown outcome)
  uint64_t commits = 0;            // highest committed index
  uint64_t elections = 0;          // a node became leader
  uint64_t leader_changes = 0;     // a newly elected leader differs from the previous one
  uint64_t crashes = 0;
  uint64_t crashes_in_ready = 0;   // of which in the middle of handling a Ready
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_installed = 0;
  uint64_t membership_changes = 0; // conf-change entries committed
  uint64_t transfers = 0;          // leadership transfers requested
  uint64_t partitions = 0;
  uint64_t reads_timed_out = 0;    // gets abandoned at their deadline
  uint64_t lease_reads = 0;        // gets a leader took from its read lease
  uint64_t ticks = 0;

  void add(const SimStats& o);
};

struct SimResult {
  bool ok = true;
  std::string property;  // the violated property, when !ok
  std::string detail;
  uint64_t tick = 0;     // when it was detected
  SimStats stats;
  uint64_t trace_hash = 0;
  std::string trace;     // when SimOptions::keep_trace
};

SimResult run_simulation(const SimOptions& options);

}  // namespace corral::sim
