// What --quota-backend-bytes counts: the table files and memtables of the
// spaces that hold the key space and the leases. Not the raft log (snapshots
// bound it) nor RocksDB's own logs and manifests, which an operator cannot
// shrink: what deletes, a compaction and a defragment free is exactly what
// brings a member back under its quota.
#pragma once

#include <cstdint>

#include "coordinator/base/result.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

Result<int64_t> backend_bytes(const storage::Engine& engine);

// Rewrites those spaces without their deleted entries. Long and blocking:
// run it off the node loop (Defragmenter).
corral::Status defragment_backend(storage::Engine& engine);

}  // namespace corral::server
