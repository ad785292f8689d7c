// LogStorage held in memory, for unit tests and the deterministic simulator.
// Copyable, so that a simulated crash can restore an earlier copy.
//
// Layout: ents_[0] is a dummy entry carrying the index and term of the last
// compaction point (the snapshot), so term(first_index()-1) always answers.
//
// initial_state().conf_state is the ConfState last given to set_conf_state,
// apply_snapshot or create_snapshot: keep it equal to the membership as of
// Config::applied when restarting a node from this storage.
#pragma once

#include <string>
#include <vector>

#include "coordinator/raft/log_storage.h"

namespace corral::raft {

class MemoryStorage : public LogStorage {
 public:
  MemoryStorage();  // empty log: dummy entry at index 0, term 0
  MemoryStorage(const MemoryStorage&) = default;
  MemoryStorage& operator=(const MemoryStorage&) = default;

  InitialState initial_state() const override;
  Result<std::vector<Entry>> entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Result<Term> term(Index i) const override;
  Index first_index() const override;
  Index last_index() const override;
  Result<Snapshot> snapshot() const override;

  void set_hard_state(const HardState& hs);
  // Initial membership of a new cluster (or the membership as of `applied`).
  void set_conf_state(const ConfState& cs);
  // Replaces the whole log; kCompacted if not newer than the current snapshot.
  Status apply_snapshot(const Snapshot& snap);
  // Appends, truncating any conflicting suffix first. Entries already
  // compacted are skipped; a gap after last_index() is kUnavailable and
  // non-consecutive input is kUnavailable too; neither changes anything.
  Status append(const std::vector<Entry>& ents);
  // Drops entries <= compact_index (kCompacted if already dropped,
  // kUnavailable past last_index()).
  Status compact(Index compact_index);
  // Records a snapshot at i (kCompacted if not newer than the current one,
  // kUnavailable past last_index()). Does not compact: call compact() too.
  Result<Snapshot> create_snapshot(Index i, const ConfState& cs, std::string data);

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> ents_;
};

}  // namespace corral::raft
