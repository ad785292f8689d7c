// Entries and a snapshot that raft has accepted but the application has not
// yet persisted. entries[i] has index offset+i; a snapshot, if any, covers
// everything before offset.
#pragma once

#include <optional>
#include <vector>

#include "coordinator/raft/types.h"

namespace corral::raft {

class UnstableLog {
 public:
  std::optional<Index> maybe_first_index() const;
  std::optional<Index> maybe_last_index() const;
  std::optional<Term> maybe_term(Index i) const;

  // The application persisted entries up to (i, t): forget them, unless the
  // entry at i has since been overwritten by a different term.
  void stable_to(Index i, Term t);
  void stable_snap_to(Index i);
  void restore(const Snapshot& snap);
  // ents must be consecutive and ents[0].index <= offset + entries.size().
  void truncate_and_append(const std::vector<Entry>& ents);
  // Entries [lo, hi); offset <= lo <= hi <= offset + entries.size().
  std::vector<Entry> slice(Index lo, Index hi) const;

  // Entries not yet handed to storage (index > in_progress_to).
  std::vector<Entry> entries_to_persist() const;
  bool has_entries_to_persist() const;
  // Everything in `entries` has been handed to storage (asynchronous writes):
  // entries_to_persist() stops returning it until it is overwritten.
  void accept_in_progress();

  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  Index offset = 0;
  // Last index handed to storage and not yet reported persisted; entries up
  // to it are not handed out again (0: none). An overwrite lowers it.
  Index in_progress_to = 0;
};


}  // namespace corral::raft
