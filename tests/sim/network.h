// Simulated network between raft nodes: every message gets a delay drawn from
// the seed (so messages reorder), may be dropped or duplicated, and is cut by
// partitions (a blocked directed link; a symmetric partition blocks both
// directions). At most max_in_flight messages travel at once: past the bound
// a send is dropped, as a full socket buffer would.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "coordinator/raft/types.h"
#include "tests/sim/prng.h"

namespace corral::sim {

using Tick = uint64_t;

struct NetworkConfig {
  uint64_t drop_per_mille = 0;
  uint64_t duplicate_per_mille = 0;
  Tick min_delay_ticks = 0;
  Tick max_delay_ticks = 2;
  uint64_t max_in_flight_messages = 2048;
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped = 0;      // loss, partition or full
  uint64_t duplicated = 0;
};

class Network {
 public:
  explicit Network(Rng rng) : rng_(rng) {}

  void set_config(const NetworkConfig& config) { config_ = config; }
  const NetworkConfig& config() const { return config_; }

  // Queues `msg` for delivery at now + delay, unless lost, blocked or full.
  void send(raft::Message msg, Tick now);
  // Removes and returns every message due at or before `now`, in
  // (delivery tick, send order) order. Messages on a link blocked now are
  // dropped: a partition also cuts what was already on the wire.
  std::vector<raft::Message> deliver_due(Tick now);

  void block(raft::NodeId from, raft::NodeId to) { blocked_.insert({from, to}); }
  void unblock(raft::NodeId from, raft::NodeId to) { blocked_.erase({from, to}); }
  bool blocked(raft::NodeId from, raft::NodeId to) const { return blocked_.count({from, to}) != 0; }
  void heal() { blocked_.clear(); }
  // Blocks both directions between every node of `side` and every other node
  // of `all`.
  void partition(const std::vector<raft::NodeId>& side, const std::vector<raft::NodeId>& all);

  size_t in_flight() const { return queue_.size(); }
  const NetworkStats& stats() const { return stats_; }

 private:
  Rng rng_;
  NetworkConfig config_;
  NetworkStats stats_;
  uint64_t next_seq_ = 0;
  std::map<std::pair<Tick, uint64_t>, raft::Message> queue_;  // (deliver at, seq) -> message
  std::set<std::pair<raft::NodeId, raft::NodeId>> blocked_;    // directed (from, to)
};

}  // namespace corral::sim
