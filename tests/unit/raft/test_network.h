// A tiny in-test cluster: RawNodes over MemoryStorages, and a synchronous
// network that delivers every message (unless dropped) until nothing moves.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/raft/memory_storage.h"
#include "coordinator/raft/raw_node.h"

namespace corral::raft::test {

// Bounds every loop in these tests.
inline constexpr int kMaxStabilizeRounds = 10000;

struct TestNode {
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> node;
  Config config;
  std::vector<Entry> applied;  // committed entries, in apply order
  std::vector<ReadState> reads;
  Index applied_index = 0;
  Index snapshot_index = 0;    // last snapshot applied from a Ready
  ConfState conf_state;
  // Asynchronous storage writes held back by hold_persistence(), in order.
  std::vector<Entry> unpersisted;
};

class TestNetwork {
 public:
  using Tweak = std::function<void(Config&)>;

  // Voters 1..n (and the given learners), all starting from empty logs.
  explicit TestNetwork(int n, Tweak tweak = {}, std::vector<NodeId> learners = {});

  // Adds a node that is not yet in any configuration (to be added by a conf
  // change); it starts with an empty log and membership `cs`.
  void add_node(NodeId id, const ConfState& cs = {});
  // Restarts a node from (a copy of) its storage, as after a crash.
  void restart(NodeId id);
  // Replaces a node's storage before start (for crafted logs).
  void start_with(NodeId id, const MemoryStorage& storage);

  RawNode& node(NodeId id) { return *nodes_.at(id).node; }
  TestNode& test_node(NodeId id) { return nodes_.at(id); }
  MemoryStorage& storage(NodeId id) { return *nodes_.at(id).storage; }
  std::vector<NodeId> ids() const;

  void isolate(NodeId id) { isolated_.insert(id); }
  void cut(NodeId a, NodeId b) { cuts_.insert({std::min(a, b), std::max(a, b)}); }
  void heal() {
    isolated_.clear();
    cuts_.clear();
  }
  // Asynchronous storage writes (Config::async_storage_writes): a held
  // node's entries stay unpersisted until release_persistence() writes
  // them and reports them with advance_append(); others persist at once.
  void hold_persistence(NodeId id) { held_.insert(id); }
  void release_persistence(NodeId id);

  // Extra filter: return true to drop a message.
  std::function<bool(const Message&)> drop_if;
  // Every message handed to step(), in order.
  std::vector<Message> delivered;

  // Handles every Ready and delivers every message until the cluster is
  // quiet. Returns the number of rounds it took.
  int stabilize();
  void tick(NodeId id, int ticks = 1);
  void tick_all(int ticks = 1);
  // Campaigns at `id` and stabilizes; returns whether it became leader.
  bool elect(NodeId id);
  NodeId leader() const;  // the leader with the highest term, or 0
  Status propose(NodeId id, std::string data);
  // Data of the normal, non-empty entries node `id` applied.
  std::vector<std::string> applied_data(NodeId id) const;

 private:
  void make_node(NodeId id, std::unique_ptr<MemoryStorage> storage);
  bool handle_ready(NodeId id);
  bool dropped(const Message& m) const;

  Tweak tweak_;
  std::map<NodeId, TestNode> nodes_;
  std::vector<Message> queue_;
  std::set<NodeId> isolated_;
  std::set<NodeId> held_;
  std::set<std::pair<NodeId, NodeId>> cuts_;
};

}  // namespace corral::raft::test
