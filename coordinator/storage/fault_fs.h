// Test-only disk faults under the engine: a RocksDB FileSystem wrapper that
// the engine puts between RocksDB and the real file system when the
// environment variable CORRAL_FAULT_FS is set at engine open (compiled in
// always, inert unless set; the engine then logs nothing different and
// writes go straight to RocksDB's default file system).
//
//   CORRAL_FAULT_FS=fsync-fail-after:N   the first N syncs (Sync/Fsync of any
//       written file) succeed, every later one fails with an IOError, as a
//       disk that reports a write-back error (fsyncgate).
//   CORRAL_FAULT_FS=power-cut-after-ms:N  N ms after the open the "power
//       goes": every file written through the engine is cut back to the size
//       it had at its last sync (a file never synced becomes empty) and the
//       process exits at once with kPowerCutExitCode, as after a power loss
//       that drops the page cache. Writes racing the cut wait and are lost.
//
// What it does not model: directory entries (a file created or renamed but
// never dir-synced survives here; a real power loss may drop it), torn
// sectors inside the synced part, files written outside RocksDB (the
// server's snapshot files and identity files).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "coordinator/base/error.h"

namespace corral::storage {

inline constexpr char kFaultFsEnv[] = "CORRAL_FAULT_FS";
// Distinct from any exit of corrald's own, so a test can tell the cut apart.
inline constexpr int kPowerCutExitCode = 86;

struct FaultPlan {
  enum class Kind { kNone, kFsyncFailAfter, kPowerCutAfterMs };
  Kind kind = Kind::kNone;
  uint64_t count = 0;  // syncs that succeed, or ms before the cut
};

// "fsync-fail-after:N" or "power-cut-after-ms:N"; anything else is a typed error.
Result<FaultPlan> parse_fault_plan(std::string_view text);

// The plan from CORRAL_FAULT_FS: kNone when unset or empty.
Result<FaultPlan> fault_plan_from_env();

// An Env whose file system, over `base`, carries out `plan` (kind !=
// kNone). The power cut's timer starts now.
std::unique_ptr<rocksdb::Env> make_fault_env(const FaultPlan& plan, std::shared_ptr<rocksdb::FileSystem> base);

}  // namespace corral::storage
