// Where this member's proposals went in the raft log, so that one lost in a
// leader change is answered at once instead of at its deadline.
//
// A leader appends each proposed batch as one entry at (index, term). By
// raft's Log Matching, the entry committed at that index is either this one
// (same term: its requests are answered when it applies) or another one,
// and then this one never commits anywhere: its requests were not applied
// and may be sent again. Without this, the clients of a leader deposed by a
// newer one (a pause, a partition) waited for the whole request timeout
// (7 s) for "outcome unknown", on every leader change.
//
// Positions passed over by a snapshot (this member installed one) say
// nothing: those requests keep their deadline. Plain data; the node loop
// drives it. At most one record per proposed entry not yet applied here
// (bounded by the pending proposals).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "coordinator/raft/types.h"

namespace corral::server {

class ProposalPositions {
 public:
  // The batch of `proposal_ids` was appended at (index, term).
  void add(raft::Index index, raft::Term term, std::vector<uint64_t> proposal_ids);
  // The entry at (index, term) applied, in log order: the proposal ids now
  // known lost (their index holds an entry of another term).
  std::vector<uint64_t> on_applied(raft::Index index, raft::Term term);
  size_t size() const { return at_.size(); }
  void clear() { at_.clear(); }

 private:
  struct Proposed {
    raft::Term term = 0;
    std::vector<uint64_t> proposal_ids;
  };
  std::map<raft::Index, Proposed> at_;
};

}  // namespace corral::server
