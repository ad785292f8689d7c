// The WAL damage RocksDB's recovery would drop without a word, found before
// RocksDB opens a data dir.
//
// corral opens RocksDB with WALRecoveryMode::kTolerateCorruptedTailRecords
// (engine.cc): damage anywhere in a WAL fails the open, except what looks
// like a write cut by a crash. Two kinds of damage pass for that and RocksDB
// drops the records behind them silently:
//   - a record header, in a file's last partial block, whose length runs
//     past the end of the file (RocksDB stops reading the file there);
//   - a header of zeros (type 0, length 0), which makes RocksDB skip the
//     rest of its 32 KiB block;
// and a third that RocksDB takes for the end of a recycled log: a
// recyclable record type (5-8), which corral never writes.
// The WAL holds the raft log, and raft's records are synced before they are
// acknowledged: a write cut by a crash is the last thing in its file, with
// nothing intact behind it, and its length fits its block. So a cut record
// or a zero header followed by an intact record (a header whose CRC32C
// matches its payload) is damage, not a torn write, and dropping it would
// lose acknowledged raft entries.
//
// Not caught: damage that covers the last record of a file and leaves
// nothing intact behind it (it looks exactly like a torn write).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::storage {

struct WalDamage {
  uint64_t offset = 0;  // of the damaged record header in its file
  std::string what;
};

// Damage in one WAL file's bytes that RocksDB's recovery would drop
// silently, or nullopt (intact, a torn last write, or damage RocksDB
// refuses on its own).
std::optional<WalDamage> find_silent_wal_damage(std::string_view file_bytes);

// Every WAL file (*.log) of the data dir `dir`, in order: the first such
// damage, as "FILE at offset N: what"; an empty string when there is none.
// An error when a WAL file cannot be read.
Result<std::string> describe_silent_wal_damage(const std::string& dir);

}  // namespace corral::storage
