// A write torn by a crash at the end of a WAL file, found and cut off
// before RocksDB opens the data dir.
//
// A WAL file is written into zeros written ahead of it (preallocated_wal.h),
// and a crash can leave its last write partly on disk: a power loss keeps
// some of its sectors, a kill -9 can end a write() between two pages. The
// record is then followed by zeros instead of the end of the file, and
// RocksDB's recovery (WALRecoveryMode::kTolerateCorruptedTailRecords) takes
// its bad checksum, or a fragment without its start or end, for damage and
// refuses to open. A write that was synced is whole on disk, so such a
// partial write was never synced and never acknowledged: it is cut off, as
// etcd's WAL repair cuts a torn last entry.
//
// Cut: every byte after the last whole logical record (a FULL record, or a
// FIRST, MIDDLE..., LAST run) when some of them are not zero; or that last
// record itself when everything after it is zero and one of its fragments
// fails its CRC32C. Nothing is cut when the walk meets what a torn write
// does not leave (an unknown record type, a length past its block): the
// damage check (wal_tail_check.h) and RocksDB judge that.
//
// Not covered: a crash that tears two writes, the earlier one partly
// written and the later one whole (a power loss that wrote sectors out of
// order): RocksDB then refuses the data dir, as before.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"

namespace corral::storage {

// Walks one WAL file's records block by block, as RocksDB's reader does.
class TornTailWalker {
 public:
  // The file's next block (32 KiB, the last may be shorter), at offset `base`.
  void block(std::string_view bytes, uint64_t base);
  // After the last block: where to cut the file, or nullopt. `read(offset,
  // length)` returns those bytes of the file (the last record's payloads).
  std::optional<uint64_t> cut_at(const std::function<std::string(uint64_t, uint64_t)>& read) const;

 private:
  struct Fragment {
    uint64_t at;  // of its header in the file
    uint64_t length;
    unsigned type;
    uint32_t crc;
  };
  bool stopped_ = false;           // met something a torn write does not leave
  bool in_record_ = false;         // a FIRST was seen, its LAST not yet
  std::vector<Fragment> open_;     // the fragments of that record
  std::vector<Fragment> last_;     // the fragments of the last whole record
  uint64_t whole_end_ = 0;         // one past the last whole record
  uint64_t nonzero_end_ = 0;       // one past the last byte that is not zero
};

// Where to cut one WAL file's bytes, or nullopt.
std::optional<uint64_t> find_torn_wal_tail(std::string_view file_bytes);

// Cuts the torn tail of every WAL file (*.log) of the data dir `dir` and
// syncs it; one line per file cut, saying where and how much.
Result<std::vector<std::string>> cut_torn_wal_tails(const std::string& dir);

}  // namespace corral::storage
