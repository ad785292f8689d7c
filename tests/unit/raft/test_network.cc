#include "tests/unit/raft/test_network.h"

#include <algorithm>

#include "coordinator/base/check.h"

namespace corral::raft::test {

TestNetwork::TestNetwork(int n, Tweak tweak, std::vector<NodeId> learners) : tweak_(std::move(tweak)) {
  ConfState cs;
  for (int i = 1; i <= n; ++i) cs.voters.push_back(static_cast<NodeId>(i));
  std::sort(learners.begin(), learners.end());
  cs.learners = learners;
  for (NodeId id : cs.voters) add_node(id, cs);
  for (NodeId id : learners) add_node(id, cs);
}

void TestNetwork::add_node(NodeId id, const ConfState& cs) {
  auto storage = std::make_unique<MemoryStorage>();
  storage->set_conf_state(cs);
  make_node(id, std::move(storage));
}

void TestNetwork::start_with(NodeId id, const MemoryStorage& storage) {
  make_node(id, std::make_unique<MemoryStorage>(storage));
}

void TestNetwork::restart(NodeId id) {
  TestNode& old = nodes_.at(id);
  auto storage = std::make_unique<MemoryStorage>(*old.storage);
  make_node(id, std::move(storage));
}

void TestNetwork::make_node(NodeId id, std::unique_ptr<MemoryStorage> storage) {
  TestNode tn;
  tn.config.id = id;
  tn.config.storage = storage.get();
  tn.config.rng_seed = 42;
  if (tweak_) tweak_(tn.config);
  tn.config.storage = storage.get();
  tn.conf_state = storage->initial_state().conf_state;
  tn.storage = std::move(storage);
  tn.node = std::make_unique<RawNode>(tn.config);
  nodes_.insert_or_assign(id, std::move(tn));
}

std::vector<NodeId> TestNetwork::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

bool TestNetwork::dropped(const Message& m) const {
  if (isolated_.count(m.from) || isolated_.count(m.to)) return true;
  if (cuts_.count({std::min(m.from, m.to), std::max(m.from, m.to)})) return true;
  if (!nodes_.count(m.to)) return true;
  return drop_if && drop_if(m);
}

bool TestNetwork::handle_ready(NodeId id) {
  TestNode& tn = nodes_.at(id);
  if (!tn.node->has_ready()) return false;
  Ready rd = tn.node->ready();
  // 1. persist
  if (rd.snapshot) {
    CORRAL_CHECK(tn.storage->apply_snapshot(*rd.snapshot) == Status::kOk);
  }
  const bool async = tn.config.async_storage_writes;
  if (async && held_.count(id)) {
    tn.unpersisted.insert(tn.unpersisted.end(), rd.entries.begin(), rd.entries.end());
  } else {
    CORRAL_CHECK(tn.storage->append(rd.entries) == Status::kOk);
  }
  if (rd.hard_state) tn.storage->set_hard_state(*rd.hard_state);
  // 2. send
  for (Message& m : rd.messages) queue_.push_back(std::move(m));
  // 3. apply
  if (rd.snapshot) {
    tn.snapshot_index = rd.snapshot->metadata.index;
    tn.applied_index = rd.snapshot->metadata.index;
    tn.conf_state = rd.snapshot->metadata.conf_state;
  }
  for (const Entry& e : rd.committed_entries) {
    CORRAL_CHECK(e.index == tn.applied_index + 1);
    tn.applied_index = e.index;
    tn.applied.push_back(e);
    if (e.type == EntryType::kConfChange) {
      auto cc = decode_conf_change(e.data);
      CORRAL_CHECK(cc.has_value());
      tn.conf_state = tn.node->apply_conf_change(*cc);
      tn.storage->set_conf_state(tn.conf_state);
    }
  }
  for (ReadState& r : rd.read_states) tn.reads.push_back(std::move(r));
  // 4. advance
  tn.node->advance();
  if (async && !held_.count(id) && !rd.entries.empty()) {
    tn.node->advance_append(rd.entries.back().index, rd.entries.back().term);
  }
  return true;
}

void TestNetwork::release_persistence(NodeId id) {
  held_.erase(id);
  TestNode& tn = nodes_.at(id);
  if (tn.unpersisted.empty()) return;
  CORRAL_CHECK(tn.storage->append(tn.unpersisted) == Status::kOk);
  const Entry last = tn.unpersisted.back();
  tn.unpersisted.clear();
  tn.node->advance_append(last.index, last.term);
}

int TestNetwork::stabilize() {
  for (int round = 0; round < kMaxStabilizeRounds; ++round) {
    bool any = false;
    for (auto& [id, tn] : nodes_) {
      while (handle_ready(id)) any = true;
    }
    std::vector<Message> batch;
    batch.swap(queue_);
    for (const Message& m : batch) {
      if (dropped(m)) continue;
      delivered.push_back(m);
      nodes_.at(m.to).node->step(m);
      any = true;
    }
    if (!any) return round;
  }
  CORRAL_CHECK_MSG(false, "network did not stabilize");
  return kMaxStabilizeRounds;
}

void TestNetwork::tick(NodeId id, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    node(id).tick();
    stabilize();
  }
}

void TestNetwork::tick_all(int ticks) {
  for (int i = 0; i < ticks; ++i) {
    for (auto& [id, tn] : nodes_) tn.node->tick();
    stabilize();
  }
}

bool TestNetwork::elect(NodeId id) {
  node(id).campaign();
  stabilize();
  return node(id).status().soft_state.role == Role::kLeader;
}

NodeId TestNetwork::leader() const {
  NodeId best = kNoNode;
  Term best_term = 0;
  for (const auto& [id, tn] : nodes_) {
    const NodeStatus st = tn.node->status();
    if (st.soft_state.role == Role::kLeader && st.hard_state.term >= best_term) {
      best = id;
      best_term = st.hard_state.term;
    }
  }
  return best;
}

Status TestNetwork::propose(NodeId id, std::string data) {
  Status s = node(id).propose(std::move(data));
  stabilize();
  return s;
}

std::vector<std::string> TestNetwork::applied_data(NodeId id) const {
  std::vector<std::string> out;
  for (const Entry& e : nodes_.at(id).applied) {
    if (e.type == EntryType::kNormal && !e.data.empty()) out.push_back(e.data);
  }
  return out;
}

}  // namespace corral::raft::test
