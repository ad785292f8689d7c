#include "coordinator/server/lease_checkpointer.h"

#include <algorithm>

#include "coordinator/lease/checkpoint_entry.h"

namespace corral::server {

void LeaseCheckpointer::propose_due(lease::Lessor& lessor, lease::Millis now, const ProposeFn& propose) {
  if (!lessor.is_primary() || now < next_periodic_ms_) return;
  auto batch = lessor.take_due_checkpoints(now, lease::kMaxCheckpointsPerEntry);
  if (batch.checkpoints.empty()) return;
  next_periodic_ms_ = now + lease::kMinCheckpointEntryGapMs;
  if (!propose(lease::encode_checkpoint_entry(self_id_, batch))) lessor.retry_checkpoints(batch, next_periodic_ms_);
}

ResetProposals LeaseCheckpointer::propose_resets(lease::Lessor& lessor, std::vector<WaitingKeepAlive> renewed,
                                                 const ProposeFn& propose) {
  ResetProposals out;
  // Several keep-alives of one lease in a turn need one reset.
  std::sort(renewed.begin(), renewed.end(),
            [](const WaitingKeepAlive& a, const WaitingKeepAlive& b) { return a.lease < b.lease; });
  size_t begin = 0;
  while (begin < renewed.size()) {
    std::vector<lease::LeaseId> ids;
    size_t end = begin;
    while (end < renewed.size()) {
      if (ids.empty() || ids.back() != renewed[end].lease) {
        if (ids.size() == lease::kMaxCheckpointsPerEntry) break;
        ids.push_back(renewed[end].lease);
      }
      ++end;
    }
    std::vector<WaitingKeepAlive> group(std::make_move_iterator(renewed.begin() + begin),
                                        std::make_move_iterator(renewed.begin() + end));
    auto batch = lessor.reset_batch(ids);
    if (propose(lease::encode_checkpoint_entry(self_id_, batch))) {
      out.proposed.emplace_back(batch.sequence, std::move(group));
    } else {
      out.refused.insert(out.refused.end(), std::make_move_iterator(group.begin()),
                         std::make_move_iterator(group.end()));
    }
    begin = end;
  }
  return out;
}

}  // namespace corral::server
