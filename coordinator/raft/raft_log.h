// The log as raft sees it: stable storage below, unstable (not yet persisted)
// entries above, and the committed/applied marks.
//   storage.first_index() ... unstable.offset-1 | unstable.offset ... last_index()
//   applied <= committed <= last_index()
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "coordinator/raft/log_storage.h"
#include "coordinator/raft/status.h"
#include "coordinator/raft/unstable_log.h"

namespace corral::raft {

class RaftLog {
 public:
  explicit RaftLog(const LogStorage* storage);

  Index first_index() const;
  Index last_index() const;
  Term last_term() const;
  // kCompacted below first_index()-1, kUnavailable past last_index().
  Result<Term> term(Index i) const;
  Term term_or_zero(Index i) const;
  bool match_term(Index i, Term t) const;
  // Raft's election restriction (paper 5.4.1).
  bool is_up_to_date(Index last_index, Term last_term) const;

  // Follower side of kAppend: if the entry at `index` has `log_term`, appends
  // `ents` (truncating a conflicting suffix) and commits up to
  // min(leader_commit, last new index). Returns the last new index.
  std::optional<Index> maybe_append(Index index, Term log_term, Index leader_commit,
                                    const std::vector<Entry>& ents);
  Index append(const std::vector<Entry>& ents);
  // First index in ents whose term differs from ours (0: none).
  Index find_conflict(const std::vector<Entry>& ents) const;
  // Largest index <= index whose term is <= term, with that term: the place
  // where a log with `term` at `index` can first agree with ours.
  std::pair<Index, Term> find_conflict_by_term(Index index, Term term) const;

  // Entries [lo, hi), at most max_bytes of data but at least one.
  Result<std::vector<Entry>> slice(Index lo, Index hi, uint64_t max_bytes) const;
  Result<std::vector<Entry>> entries_from(Index i, uint64_t max_bytes) const;
  Result<Snapshot> snapshot() const;

  // Committed entries not yet applied; with allow_unpersisted false only up
  // to persisted_index() (asynchronous writes: never apply what this member
  // could lose in a crash, or its state machine would be ahead of its log).
  bool has_next_committed_entries(bool allow_unpersisted = true) const;
  std::vector<Entry> next_committed_entries(uint64_t max_bytes, bool allow_unpersisted = true) const;
  // Last index known to be in stable storage, i.e. the application reported
  // it persisted (0 while a received snapshot is not yet persisted).
  Index persisted_index() const;
  const std::vector<Entry>& unstable_entries() const { return unstable_.entries; }
  std::vector<Entry> entries_to_persist() const { return unstable_.entries_to_persist(); }
  bool has_entries_to_persist() const { return unstable_.has_entries_to_persist(); }
  void accept_in_progress() { unstable_.accept_in_progress(); }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_.snapshot; }

  void commit_to(Index i);
  // Commits max_index if it is of `term` (Figure 8: only current-term entries
  // are committed by counting).
  bool maybe_commit(Index max_index, Term term);
  void applied_to(Index i);
  void stable_to(Index i, Term t) { unstable_.stable_to(i, t); }
  void stable_snap_to(Index i) { unstable_.stable_snap_to(i); }
  void restore(const Snapshot& snap);
  // The application already holds `snap` durably (and applied): restore
  // to it with nothing left to persist or apply.
  void restore_persisted(const Snapshot& snap);

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }

 private:
  const LogStorage* storage_;
  UnstableLog unstable_;
  Index committed_ = 0;
  Index applied_ = 0;
};

}  // namespace corral::raft
