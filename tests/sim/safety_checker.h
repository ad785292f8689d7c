// Raft's safety properties (Raft paper, Figure 3), checked while the
// simulation runs, on every Ready and every apply:
//  - election safety: at most one leader per term, ever;
//  - leader completeness: an entry known committed is in the log of every
//    leader of a later term (checked when a leader is elected, and for the
//    current leaders whenever a newly committed entry becomes known);
//  - log matching: two logs that hold an entry with the same index and term
//    are identical up to it; and a node's log up to its commit index agrees
//    with what is known committed;
//  - state-machine safety: no two nodes apply different entries at an index,
//    and every node applies indexes in order without gaps.
// A check returns the first violation found; the simulation stops there.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/raft/log_storage.h"
#include "coordinator/raft/types.h"

namespace corral::sim {

struct Violation {
  std::string property;
  std::string detail;
};

// Identity of an entry without its payload.
struct EntryDigest {
  raft::Term term = 0;
  uint64_t data_hash = 0;
  bool operator==(const EntryDigest&) const = default;
};
EntryDigest digest_of(const raft::Entry& e);

class SafetyChecker {
 public:
  // `id` has become leader of `term`; `log` holds its log as of that moment.
  std::optional<Violation> on_leader(raft::NodeId id, raft::Term term, const raft::LogStorage& log);
  // `id` reports `e` as committed (a Ready's committed entries).
  std::optional<Violation> on_committed(raft::NodeId id, const raft::Entry& e);
  // `id` applies `e`, its state machine having applied `applied_before`.
  std::optional<Violation> on_apply(raft::NodeId id, raft::Index applied_before, const raft::Entry& e);
  // `id` installs a snapshot covering up to `index`.
  void on_snapshot(raft::NodeId id, raft::Index index);
  // A leader's log must still hold every entry known committed below its
  // last index; used for current leaders when new commits become known.
  std::optional<Violation> check_leader_has(raft::NodeId id, raft::Term term,
                                            const raft::LogStorage& log, raft::Index index) const;
  // Pairwise log matching over the given logs, and each log's committed
  // prefix (up to its hard state's commit) against the known committed log.
  std::optional<Violation> check_logs(
      const std::vector<std::pair<raft::NodeId, const raft::LogStorage*>>& logs) const;

  // Committed entries known so far, by index.
  const std::map<raft::Index, EntryDigest>& committed() const { return committed_; }
  const std::map<raft::Term, raft::NodeId>& leaders() const { return leaders_; }

 private:
  std::map<raft::Term, raft::NodeId> leaders_;
  std::map<raft::Index, EntryDigest> committed_;
  // For each committed entry, the highest term led when it was first known
  // committed: the term of the leader that committed it is no higher.
  // Leader Completeness holds for leaders of later terms only; a leader
  // overtaken meanwhile (a stale one, Raft's figure 8) may lack the entry.
  std::map<raft::Index, raft::Term> committed_by_term_at_most_;
  std::map<raft::Index, EntryDigest> applied_;
};

}  // namespace corral::sim
