// Engine on RocksDB: one column family per Space, one DB per member.
//
// Durability: write() goes through the WAL, so a write that returned is in
// the WAL (in the OS page cache without sync, on disk with sync). A
// WriteBatch is one WAL record with one checksum: after a crash RocksDB
// recovers either all of a batch or none of it, so torn multi-key writes
// cannot happen. write_unlogged() skips the WAL; atomic_flush makes every
// flush cut all column families at the same sequence number, so the unlogged
// writes that survive a crash are exactly those before the last flush.
#include "coordinator/storage/engine.h"

#include <algorithm>
#include <cstdio>
#include <array>
#include <filesystem>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "coordinator/base/check.h"
#include "coordinator/storage/direct_io.h"
#include "coordinator/storage/fault_fs.h"
#include "coordinator/storage/preallocated_wal.h"
#include "coordinator/storage/wal_tail_check.h"
#include "coordinator/storage/wal_torn_tail.h"

namespace corral::storage {

namespace {

// Tuned for a small machine (2 cores shared by several members): small
// memtables, two background jobs, bounded info logs.
constexpr uint64_t kWriteBufferBytes = 16ull << 20;
constexpr int kMaxWriteBufferCount = 3;
constexpr int kMaxBackgroundJobs = 2;
constexpr uint64_t kMaxInfoLogFileBytes = 4ull << 20;
constexpr size_t kKeepInfoLogFileCount = 2;
constexpr uint64_t kMaxTotalWalBytes = 128ull << 20;
constexpr char kInMemoryDefaultPath[] = "/corral-in-memory";
constexpr char kCorruptDataDirRemedy[] =
    ". Nothing in it was changed. Restore it from a snapshot (corralctl snapshot restore), or remove the member "
    "and add it again with an empty data dir";

Error storage_error(const rocksdb::Status& s, const char* what) {
  return make_error(ErrorCode::kStorage, std::string("rocksdb ") + what + ": " + s.ToString());
}

rocksdb::Slice to_slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view to_view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

size_t space_slot(Space space) {
  auto slot = static_cast<size_t>(space);
  CORRAL_CHECK_MSG(slot < kSpaceCount, "unknown storage space");
  return slot;
}

// The table files of `path` that fail to open or to verify their
// checksums, named, for an open that RocksDB refused as corrupt: its
// message may name the MANIFEST that lists a damaged table rather than the
// table. At most kMaxNamedDamagedFiles are named.
std::string damaged_table_files(const std::string& path, const rocksdb::Options& options) {
  constexpr int kMaxNamedDamagedFiles = 8;
  std::string names;
  int named = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() != ".sst") continue;
    rocksdb::SstFileReader reader(options);
    rocksdb::Status s = reader.Open(entry.path().string());
    if (s.ok()) s = reader.VerifyChecksum();
    if (s.ok()) continue;
    if (named++ == kMaxNamedDamagedFiles) return names + ", ...";
    names += (names.empty() ? "" : ", ") + entry.path().filename().string() + " (" + s.ToString() + ")";
  }
  return names;
}

// The WAL files of `path` by name ("000012.log, 000015.log").
std::string wal_files(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".log") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none found" : out;
}

}  // namespace

const char* space_name(Space space) {
  switch (space) {
    case Space::kRaftLog: return "raft_log";
    case Space::kRaftMeta: return "raft_meta";
    case Space::kKv: return "kv";
    case Space::kKvMeta: return "kv_meta";
    case Space::kLease: return "lease";
  }
  return "unknown";
}

// The batch records operations by Space; the engine that writes it maps
// spaces to its column families (a batch is not tied to one engine).
// Keys and values are appended to one arena string and records hold offsets
// into it: two allocations per record were a visible share of a loaded
// leader's CPU (perf: malloc/free ~13%).
struct WriteBatch::Impl {
  enum class Op : uint8_t { kPut, kDelete, kDeleteRange };
  struct Record {
    Op op;
    Space space;
    size_t key_offset;  // begin for kDeleteRange
    size_t key_size;
    size_t value_size;  // end for kDeleteRange; the value follows the key
  };
  std::vector<Record> records;
  std::string arena;

  void add(Op op, Space space, std::string_view key, std::string_view value) {
    space_slot(space);
    records.push_back(Record{op, space, arena.size(), key.size(), value.size()});
    arena.append(key);
    arena.append(value);
  }
  std::string_view key(const Record& r) const { return std::string_view(arena).substr(r.key_offset, r.key_size); }
  std::string_view value(const Record& r) const {
    return std::string_view(arena).substr(r.key_offset + r.key_size, r.value_size);
  }
};

WriteBatch::WriteBatch() : impl_(std::make_unique<Impl>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

// A moved-from batch starts over empty instead of dereferencing null.
WriteBatch::Impl& WriteBatch::impl() {
  if (!impl_) impl_ = std::make_unique<Impl>();
  return *impl_;
}

void WriteBatch::put(Space space, std::string_view key, std::string_view value) {
  impl().add(Impl::Op::kPut, space, key, value);
}
void WriteBatch::del(Space space, std::string_view key) {
  impl().add(Impl::Op::kDelete, space, key, {});
}
void WriteBatch::delete_range(Space space, std::string_view begin, std::string_view end) {
  impl().add(Impl::Op::kDeleteRange, space, begin, end);
}
size_t WriteBatch::count() const { return impl_ ? impl_->records.size() : 0; }
size_t WriteBatch::size_bytes() const { return impl_ ? impl_->arena.size() : 0; }

namespace {

class RocksIterator final : public Iterator {
 public:
  // The bounds live here because ReadOptions only points at them.
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view lower,
                std::string_view upper, const rocksdb::Snapshot* snapshot = nullptr)
      : lower_(lower), upper_(upper) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    // A long scan (a snapshot image) must not evict the hot blocks.
    ro.fill_cache = snapshot == nullptr;
    lower_slice_ = to_slice(lower_);
    ro.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) {
      upper_slice_ = to_slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    // An iterator reads one implicit snapshot taken at creation: a
    // consistent view even while other threads write.
    it_.reset(db->NewIterator(ro, cf));
    it_->Seek(lower_slice_);
  }

  bool valid() const override { return it_->Valid(); }
  void next() override { it_->Next(); }
  std::string_view key() const override { return to_view(it_->key()); }
  std::string_view value() const override { return to_view(it_->value()); }
  corral::Status status() const override {
    rocksdb::Status s = it_->status();
    if (!s.ok()) return storage_error(s, "iterate");
    return {};
  }

 private:
  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Holds a RocksDB snapshot until destroyed.
class RocksReadView final : public ReadView {
 public:
  using HandleOf = std::function<rocksdb::ColumnFamilyHandle*(Space)>;
  RocksReadView(rocksdb::DB* db, HandleOf handle_of)
      : db_(db), handle_of_(std::move(handle_of)), snapshot_(db->GetSnapshot()) {}
  ~RocksReadView() override { db_->ReleaseSnapshot(snapshot_); }
  RocksReadView(const RocksReadView&) = delete;
  RocksReadView& operator=(const RocksReadView&) = delete;

  std::unique_ptr<Iterator> scan(Space space, std::string_view lower, std::string_view upper) const override {
    return std::make_unique<RocksIterator>(db_, handle_of_(space), lower, upper, snapshot_);
  }

 private:
  rocksdb::DB* db_;
  HandleOf handle_of_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace

class RocksEngine final : public Engine {
 public:
  ~RocksEngine() override {
    for (auto* handle : handles_) {
      if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle);
    }
    if (db_ != nullptr) db_->Close();
    db_.reset();
    // The Env must outlive the DB that uses it.
    env_.reset();
  }

  static Result<std::unique_ptr<Engine>> open(const EngineOptions& options) {
    auto engine = std::unique_ptr<RocksEngine>(new RocksEngine());
    std::string path = options.path;
    rocksdb::DBOptions db_options;
    if (options.in_memory) {
      engine->env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
      db_options.env = engine->env_.get();
      if (path.empty()) path = kInMemoryDefaultPath;
      // The memory Env cannot make a relative path absolute (RocksDB's open
      // fails with "GetAbsolutePath: not implemented"); the path is only a
      // name inside this engine's own Env.
      if (path.front() != '/') path = "/" + path;
    } else if (path.empty()) {
      return make_error(ErrorCode::kBadRequest, "storage engine: empty path");
    } else {
      auto plan = fault_plan_from_env();
      if (!plan.ok()) return plan.error();
      auto fs = make_preallocated_wal_fs(rocksdb::FileSystem::Default());
      engine->env_ = plan->kind != FaultPlan::Kind::kNone ? make_fault_env(*plan, fs) : rocksdb::NewCompositeEnv(fs);
      db_options.env = engine->env_.get();
    }
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.max_background_jobs = kMaxBackgroundJobs;
    db_options.max_log_file_size = kMaxInfoLogFileBytes;
    db_options.keep_log_file_num = kKeepInfoLogFileCount;
    db_options.max_total_wal_size = kMaxTotalWalBytes;
    // Unlogged writes span several spaces (kv, kv_meta, lease, raft_meta):
    // flushing them one family at a time could leave one family's table
    // files ahead of another's after a crash.
    db_options.atomic_flush = true;
    // RocksDB preallocates every new WAL file at 1.1 x write_buffer_size
    // (17.6 MiB here) and table files at 1.1 x target_file_size_base when
    // it opens them: the free space of the data dir then falls by steps of
    // that size with a few bytes written, faster than the disk reserve can
    // see it coming (a member died of ENOSPC that way, tests/fault
    // disk_fault_test.cc). Without it the data dir takes what is written.
    db_options.allow_fallocate = false;
    // The WAL holds the raft log: an entry this member synced (and so
    // acknowledged) must never be dropped at recovery. RocksDB's default
    // (point in time) stops replay silently at a damaged record and drops
    // every later one; this mode accepts only an incomplete last record (a
    // write cut by a crash, never acknowledged) and refuses to open on most
    // other damage, as etcd refuses a WAL damaged before its tail. The damage
    // it would still take for a cut write (wal_tail_check.h) is looked for
    // first.
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    // Flushes and compactions write their table files with O_DIRECT: through
    // the page cache, the kernel's copy of every flushed byte was 14-22% of
    // a member's CPU at 1000 clients on this VM (perf: copy_folio_from_iter_atomic
    // under BuildTable). Only where the data dir's file system takes
    // O_DIRECT (a flush that cannot open its file would stop the member).
    db_options.use_direct_io_for_flush_and_compaction = !options.in_memory && direct_io_works(path);
    CORRAL_CHECK_MSG(db_options.recycle_log_file_num == 0, "wal_tail_check.h assumes WAL files are never recycled");

    if (!options.in_memory) {
      auto damage = describe_silent_wal_damage(path);
      if (!damage.ok()) return damage.error();
      if (!damage->empty()) {
        return make_error(ErrorCode::kStorage, "data dir " + path +
                                                   " is corrupt: the WAL (the raft log records) is damaged in " +
                                                   *damage + "; RocksDB would drop the records behind it" +
                                                   kCorruptDataDirRemedy);
      }
      auto cuts = cut_torn_wal_tails(path);
      if (!cuts.ok()) return cuts.error();
      for (const auto& cut : *cuts) std::fprintf(stderr, "storage: WAL file %s\n", cut.c_str());
    }

    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.write_buffer_size = kWriteBufferBytes;
    cf_options.max_write_buffer_number = kMaxWriteBufferCount;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    // Raft log entries are read back only by lagging followers and are
    // deleted after the next snapshot: compressing them on flush is wasted CPU.
    rocksdb::ColumnFamilyOptions raft_log_options = cf_options;
    raft_log_options.compression = rocksdb::kNoCompression;

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
    for (int i = 0; i < kSpaceCount; ++i) {
      auto space = static_cast<Space>(i);
      descriptors.emplace_back(space_name(space), space == Space::kRaftLog ? raft_log_options : cf_options);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw_db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw_db);
    if (s.IsCorruption()) {
      std::string where = damaged_table_files(path, rocksdb::Options(db_options, cf_options));
      if (!where.empty()) {
        where = "; damaged table files: " + where;
      } else if (s.ToString().find(path) == std::string::npos) {
        // RocksDB names the file it failed on, but for a WAL record.
        where = "; no table file is damaged, so it is in the WAL (the raft log records): " + wal_files(path);
      }
      return make_error(ErrorCode::kStorage,
                        "data dir " + path + " is corrupt: " + s.ToString() + where + kCorruptDataDirRemedy);
    }
    if (!s.ok()) {
      return make_error(ErrorCode::kStorage, "rocksdb open " + path + ": " + s.ToString());
    }
    engine->db_.reset(raw_db);
    engine->in_memory_ = options.in_memory;
    CORRAL_CHECK(handles.size() == descriptors.size());
    engine->handles_ = std::move(handles);
    return std::unique_ptr<Engine>(std::move(engine));
  }

  corral::Status write(WriteBatch batch, bool sync) override {
    if (batch.empty()) {
      // Nothing to add, but earlier unsynced writes must reach the disk.
      return sync ? sync_wal() : corral::Status();
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return write_with(wo, batch);
  }

  corral::Status sync_wal() override {
    // RocksDB's memory Env has no SyncWAL ("not supported"), and nothing to sync.
    if (in_memory_) return {};
    rocksdb::Status s = db_->SyncWAL();
    if (!s.ok()) return storage_error(s, "sync wal");
    return {};
  }

  corral::Status write_unlogged(WriteBatch batch) override {
    if (batch.empty()) return {};
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    return write_with(wo, batch);
  }

  corral::Status flush() override {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    // Every family in one call: with atomic_flush they are cut together.
    std::vector<rocksdb::ColumnFamilyHandle*> families(handles_.begin() + 1, handles_.end());
    rocksdb::Status s = db_->Flush(fo, families);
    if (!s.ok()) return storage_error(s, "flush");
    return {};
  }

  Result<int64_t> space_bytes(Space space) const override {
    int64_t total = 0;
    for (const char* property : {"rocksdb.live-sst-files-size", "rocksdb.cur-size-all-mem-tables"}) {
      uint64_t v = 0;
      if (!db_->GetIntProperty(handle(space), property, &v)) {
        return make_error(ErrorCode::kStorage, std::string("cannot read ") + property + " of " + space_name(space));
      }
      total += static_cast<int64_t>(v);
    }
    return total;
  }

  corral::Status set_auto_compactions(bool enabled) override {
    const std::unordered_map<std::string, std::string> change{{"disable_auto_compactions", enabled ? "false" : "true"}};
    for (auto* h : handles_) {
      rocksdb::Status s = db_->SetOptions(h, change);
      if (!s.ok()) return storage_error(s, "set disable_auto_compactions");
    }
    return {};
  }

  corral::Status compact_space(Space space) override {
    rocksdb::CompactRangeOptions co;
    // Tombstones at the last level are dropped only by rewriting it too.
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    co.exclusive_manual_compaction = false;  // background compactions go on
    rocksdb::Status s = db_->CompactRange(co, handle(space), nullptr, nullptr);
    if (!s.ok()) return storage_error(s, (std::string("compact ") + space_name(space)).c_str());
    return {};
  }

  Result<std::optional<std::string>> get(Space space, std::string_view key) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(space), to_slice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return storage_error(s, "get");
    return std::optional<std::string>(std::move(value));
  }

  std::unique_ptr<Iterator> scan(Space space, std::string_view lower,
                                 std::string_view upper) const override {
    return std::make_unique<RocksIterator>(db_.get(), handle(space), lower, upper);
  }

  Result<std::optional<std::string>> last_key(Space space, std::string_view lower,
                                              std::string_view upper) const override {
    rocksdb::ReadOptions ro;
    rocksdb::Slice lower_slice = to_slice(lower);
    rocksdb::Slice upper_slice = to_slice(upper);
    ro.iterate_lower_bound = &lower_slice;
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(space)));
    // With an upper bound set, SeekToLast lands on the last key below it.
    it->SeekToLast();
    if (!it->Valid()) {
      if (!it->status().ok()) return storage_error(it->status(), "last_key");
      return std::optional<std::string>();
    }
    std::string_view key = to_view(it->key());
    if (key < lower || (!upper.empty() && key >= upper)) return std::optional<std::string>();
    return std::optional<std::string>(std::string(key));
  }

  bool direct_table_writes() const override { return db_->GetDBOptions().use_direct_io_for_flush_and_compaction; }

  std::unique_ptr<ReadView> read_view() const override {
    return std::make_unique<RocksReadView>(db_.get(), [this](Space space) { return handle(space); });
  }

  corral::Status checkpoint(const std::string& dir) const override {
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
    if (!s.ok()) return storage_error(s, "checkpoint");
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    s = cp->CreateCheckpoint(dir);
    if (!s.ok()) return storage_error(s, "checkpoint");
    return {};
  }

 private:
  // Per-record bytes RocksDB adds in a batch (tag, cf id, varint lengths).
  static constexpr size_t kRecordOverheadBytes = 16;

  RocksEngine() = default;

  corral::Status write_with(const rocksdb::WriteOptions& wo, const WriteBatch& batch) {
    rocksdb::WriteBatch wb(batch.size_bytes() + batch.count() * kRecordOverheadBytes);
    const WriteBatch::Impl& impl = *batch.impl_;
    for (const auto& r : impl.records) {
      rocksdb::ColumnFamilyHandle* cf = handle(r.space);
      const rocksdb::Slice key = to_slice(impl.key(r));
      const rocksdb::Slice value = to_slice(impl.value(r));
      rocksdb::Status s;
      switch (r.op) {
        case WriteBatch::Impl::Op::kPut: s = wb.Put(cf, key, value); break;
        case WriteBatch::Impl::Op::kDelete: s = wb.Delete(cf, key); break;
        case WriteBatch::Impl::Op::kDeleteRange:
          // An empty or inverted range deletes nothing (RocksDB would refuse it).
          if (key.compare(value) < 0) s = wb.DeleteRange(cf, key, value);
          break;
      }
      if (!s.ok()) return storage_error(s, "batch");
    }
    rocksdb::Status s = db_->Write(wo, &wb);
    if (!s.ok()) return storage_error(s, "write");
    return {};
  }

  rocksdb::ColumnFamilyHandle* handle(Space space) const {
    return handles_[space_slot(space) + 1];  // slot 0 is the default family
  }

  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  bool in_memory_ = false;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& options) {
  return RocksEngine::open(options);
}

}  // namespace corral::storage
