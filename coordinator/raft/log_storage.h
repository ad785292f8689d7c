// The read-only view of stable storage that the consensus core reads from.
// The caller writes to it (append, apply snapshot, compact) while handling a
// Ready; raft only reads. Implemented in memory (memory_storage.h, for tests
// and the simulator) and on RocksDB (coordinator/storage).
#pragma once

#include <cstdint>
#include <vector>

#include "coordinator/raft/status.h"
#include "coordinator/raft/types.h"

namespace corral::raft {

struct InitialState {
  HardState hard_state;
  ConfState conf_state;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  virtual InitialState initial_state() const = 0;
  // Entries [lo, hi), at most max_bytes of entry data in total but always at
  // least one entry if any is in range. kCompacted if lo < first_index().
  virtual Result<std::vector<Entry>> entries(Index lo, Index hi, uint64_t max_bytes) const = 0;
  // Term of the entry at i; valid for first_index()-1 (the snapshot's term) to
  // last_index(). kCompacted below, kUnavailable above.
  virtual Result<Term> term(Index i) const = 0;
  // Index of the first entry still available (snapshot index + 1).
  virtual Index first_index() const = 0;
  // Index of the last entry (snapshot index if the log is empty).
  virtual Index last_index() const = 0;
  // The most recent snapshot; kSnapshotTemporarilyUnavailable if not ready yet.
  virtual Result<Snapshot> snapshot() const = 0;
};

}  // namespace corral::raft
