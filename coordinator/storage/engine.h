// The one RocksDB database of a member. Separate key spaces (column families)
// hold the raft log, raft metadata (hard state, conf state, snapshot
// metadata), the MVCC key space and the lease table. Writes go through
// WriteBatch so that one sync covers many changes (group commit), and so
// that applied state and the applied index move together atomically.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::storage {

enum class Space : uint8_t {
  kRaftLog = 0,  // index (8-byte big-endian) -> encoded raft entry
  kRaftMeta,     // fixed names -> hard state, conf state, snapshot metadata
  kKv,           // MVCC revision keys -> encoded key-value records (kv/ owns the format)
  kKvMeta,       // applied index, consistent index, compaction revision, ...
  kLease,        // lease id -> encoded lease record (lease/ owns the format)
};
inline constexpr int kSpaceCount = 5;
const char* space_name(Space space);

struct EngineOptions {
  std::string path;         // directory; created if missing
  bool in_memory = false;   // RocksDB's in-memory Env: for tests, nothing on disk
  uint64_t block_cache_bytes = 64 << 20;
};

class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  void put(Space space, std::string_view key, std::string_view value);
  void del(Space space, std::string_view key);
  // Deletes keys in [begin, end).
  void delete_range(Space space, std::string_view begin, std::string_view end);
  size_t count() const;
  size_t size_bytes() const;
  bool empty() const { return count() == 0; }

 private:
  friend class RocksEngine;  // engine.cc: replays the batch into RocksDB
  struct Impl;
  Impl& impl();
  std::unique_ptr<Impl> impl_;
};

// Forward iteration over [lower, upper) of one space, on a consistent view:
// the iterator reads the point-in-time state of its creation (RocksDB's
// implicit snapshot) whatever is written meanwhile.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Error met while iterating (valid() is false then); ok when simply at the end.
  virtual corral::Status status() const = 0;
};

// A point-in-time view of the whole database (a RocksDB snapshot): its
// scans see the state as of its creation whatever is written later. May be
// read from another thread than the one that writes; release it before the
// engine closes.
class ReadView {
 public:
  virtual ~ReadView() = default;
  // As Engine::scan, at the view's point in time.
  virtual std::unique_ptr<Iterator> scan(Space space, std::string_view lower,
                                         std::string_view upper) const = 0;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(const EngineOptions& options);
  virtual ~Engine() = default;

  // Applies the batch atomically; with sync, returns after an fsync of the WAL.
  virtual corral::Status write(WriteBatch batch, bool sync) = 0;
  // Makes every logged write made before it durable (an fsync of the WAL).
  // Unlike write() with sync, it does not hold RocksDB's write queue through
  // the fsync: writes from other threads (unlogged ones above all) go on
  // meanwhile.
  virtual corral::Status sync_wal() = 0;
  // Applies the batch atomically without the WAL: it reaches the disk only
  // with the next flush, and is lost by a crash before it. Every space
  // flushes together at one point (RocksDB atomic_flush), so what a crash
  // leaves of unlogged writes is always a prefix of them, never some spaces
  // of a batch without the others. For state that can be rebuilt from a
  // durable record (the raft log), as etcd's backend does.
  virtual corral::Status write_unlogged(WriteBatch batch) = 0;
  // Writes every space's in-memory data to table files (all spaces at one
  // point) and waits: after it, every unlogged write made before survives a
  // crash. Safe to call from another thread than the writer's.
  virtual corral::Status flush() = 0;
  virtual Result<std::optional<std::string>> get(Space space, std::string_view key) const = 0;
  // Iterates keys in [lower, upper); an empty upper means to the end of the space.
  virtual std::unique_ptr<Iterator> scan(Space space, std::string_view lower,
                                         std::string_view upper) const = 0;
  // Last key of the space in [lower, upper), if any (reverse seek).
  virtual Result<std::optional<std::string>> last_key(Space space, std::string_view lower,
                                                      std::string_view upper) const = 0;
  // Bytes one space takes now: its table files plus its memtables. A delete
  // does not shrink it; compact_space does (as etcd's db size shrinks only by
  // defragmenting).
  virtual Result<int64_t> space_bytes(Space space) const = 0;
  // Rewrites the space's table files without deleted or overwritten entries
  // (a manual compaction down to the last level): etcd's defragment. Long
  // and blocking; the database stays usable meanwhile, so callers run it off
  // the node loop.
  virtual corral::Status compact_space(Space space) = 0;
  // Switches RocksDB's automatic compactions of every space on or off (a
  // member on a nearly full disk: a compaction writes its output before it
  // deletes its input). Running ones finish; flushes go on.
  virtual corral::Status set_auto_compactions(bool enabled) {
    (void)enabled;
    return {};
  }
  // Whether flushes and compactions write table files with O_DIRECT
  // (direct_io.h): where the data dir's file system takes it.
  virtual bool direct_table_writes() const { return false; }
  // A view of every space as written now; cheap (no copy).
  virtual std::unique_ptr<ReadView> read_view() const = 0;
  // A consistent copy of the whole database in `dir` (hard links where it can),
  // for snapshots shipped to members that fell behind.
  virtual corral::Status checkpoint(const std::string& dir) const = 0;
};

}  // namespace corral::storage
