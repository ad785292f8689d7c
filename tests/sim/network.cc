#include "tests/sim/network.h"

#include <algorithm>

namespace corral::sim {

void Network::send(raft::Message msg, Tick now) {
  ++stats_.sent;
  if (blocked(msg.from, msg.to) || rng_.chance_per_mille(config_.drop_per_mille)) {
    ++stats_.dropped;
    return;
  }
  const bool duplicate = rng_.chance_per_mille(config_.duplicate_per_mille);
  const int copies = duplicate ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    if (queue_.size() >= config_.max_in_flight_messages) {
      ++stats_.dropped;
      return;
    }
    const Tick at = now + rng_.between(config_.min_delay_ticks, config_.max_delay_ticks);
    if (i == 1) ++stats_.duplicated;
    queue_.emplace(std::make_pair(at, next_seq_++), i + 1 < copies ? msg : std::move(msg));
  }
}

std::vector<raft::Message> Network::deliver_due(Tick now) {
  std::vector<raft::Message> out;
  while (!queue_.empty() && queue_.begin()->first.first <= now) {
    auto node = queue_.extract(queue_.begin());
    raft::Message& msg = node.mapped();
    if (blocked(msg.from, msg.to)) {
      ++stats_.dropped;
      continue;
    }
    ++stats_.delivered;
    out.push_back(std::move(msg));
  }
  return out;
}

void Network::partition(const std::vector<raft::NodeId>& side, const std::vector<raft::NodeId>& all) {
  for (raft::NodeId a : side) {
    for (raft::NodeId b : all) {
      if (std::find(side.begin(), side.end(), b) != side.end()) continue;
      block(a, b);
      block(b, a);
    }
  }
}

}  // namespace corral::sim
