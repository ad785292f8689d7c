// RocksDB's WAL files written into space the file already has.
//
// A synced append to a file that grows makes fdatasync write the data and
// then commit the inode's new size through ext4's journal: two dependent
// writes on the disk. Appending into blocks already written (with zeros)
// leaves the size unchanged, so fdatasync writes the data alone. On this
// project's VM: append + fdatasync 155-174 us growing, 100-111 us into
// written zeros (bench/RESULTS.md, "The WAL's fdatasync"). etcd does the
// same with its 64 MB preallocated WAL segments.
//
// The wrapper writes zeros ahead of the log's end in chunks of kWalChunkBytes
// (so the data dir holds at most one chunk more than the log), writes each
// append at the log's end with pwrite, and cuts the file back to the log's
// length when RocksDB closes it. After a crash the file ends in zeros: RocksDB's
// log reader takes a zero header as padding and skips to the next block, so
// replay ends at the last record (as for a file that ends there); a torn last
// record is followed by zeros instead of the end of the file, which
// wal_tail_check.h finds and cuts off before RocksDB opens (see there).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <rocksdb/file_system.h>

namespace corral::storage {

inline constexpr uint64_t kWalChunkBytes = 1 << 20;

// True for the name of a RocksDB WAL file ("<dir>/000123.log").
bool is_wal_file_name(std::string_view path);

// `base` with RocksDB's WAL files (NewWritableFile of a "*.log") written as
// described above; every other file goes to `base` unchanged.
std::shared_ptr<rocksdb::FileSystem> make_preallocated_wal_fs(std::shared_ptr<rocksdb::FileSystem> base);

}  // namespace corral::storage
