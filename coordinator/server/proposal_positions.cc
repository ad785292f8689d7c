#include "coordinator/server/proposal_positions.h"

#include <utility>

namespace corral::server {

void ProposalPositions::add(raft::Index index, raft::Term term, std::vector<uint64_t> proposal_ids) {
  // A member's log never gives an index back once it held one (a conflict
  // replaces the entry there), so an index comes again only after this
  // member installed a snapshot past it: the older record says nothing then
  // (its requests keep their deadline).
  at_[index] = Proposed{term, std::move(proposal_ids)};
}

std::vector<uint64_t> ProposalPositions::on_applied(raft::Index index, raft::Term term) {
  std::vector<uint64_t> lost;
  while (!at_.empty() && at_.begin()->first <= index) {
    auto it = at_.begin();
    // Below `index`: passed over by a snapshot, outcome unknown (deadline).
    // At `index` with another term: another entry committed there.
    if (it->first == index && it->second.term != term) lost = std::move(it->second.proposal_ids);
    at_.erase(it);
  }
  return lost;
}

}  // namespace corral::server
