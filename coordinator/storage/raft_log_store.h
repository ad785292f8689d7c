// raft::LogStorage on the Engine: the durable raft log and raft metadata.
//
// Disk format (records from raft_records.h, schema/raft.capnp):
//   Space::kRaftLog   key = 8-byte big-endian index    value = Entry
//   Space::kRaftMeta  "hard_state" -> HardState
//                     "conf_state" -> ConfState (membership as of the last
//                                     set_conf_state / snapshot)
//                     "snapshot"   -> SnapshotMetadata of the latest snapshot
//                     "log_start"  -> LogMark: index and term of the entry just
//                                     before the first kept entry (compaction
//                                     point); absent means (0, 0)
// The log holds exactly the keys log_start.index+1 .. last_index.
//
// Writing: one Ready becomes one WriteBatch and one sync. The caller stages
// every change of the Ready into its batch, writes it, then tells the store:
//
//   WriteBatch batch;
//   store.stage_apply_snapshot(batch, ready.snapshot.metadata);   // if any
//   store.stage_append(batch, ready.entries);
//   store.stage_hard_state(batch, ready.hard_state);              // if changed
//   auto s = engine.write(std::move(batch), ready.must_sync);
//   if (s.ok()) store.on_written(); else store.abandon_staged();
//
// Staged changes build on each other (stage_append after a staged snapshot
// sees the snapshot) but readers (the LogStorage methods) see them only
// after on_written(): raft never reads entries that are not yet written. A
// batch commits atomically (one WAL record), so a crash keeps all of a
// Ready's changes or none: torn writes cannot happen. A failed synced write
// leaves the disk state unknown; the server should stop the member.
//
// Writes on another thread (the leader's storage writer): seal_staged()
// closes the staged changes as one write in flight; staging goes on on top
// of it; on_sealed_written() makes the oldest sealed write visible once it
// is written. Writes finish in the order they were sealed. on_written()
// needs no write in flight (the caller drains first).
//
// Reads: first/last index, the term of every entry (as runs of equal terms)
// and a byte-bounded tail of the log live in memory, so term() never reads
// RocksDB and entries() reads it only for entries older than the cache.
//
// Snapshots: the store keeps only the metadata of the latest snapshot; the
// image is produced on demand by a source the server registers.
//
// Not thread-safe: call everything from the thread that owns the RawNode
// (the writer thread gets only the WriteBatch).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/raft/log_storage.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_records.h"

namespace corral::storage {

// Default bound on the in-memory tail of the log (entry data + overhead).
inline constexpr uint64_t kDefaultLogCacheBytes = 16ull << 20;

// Key of entry `index` in Space::kRaftLog: 8 bytes, big-endian, so that keys
// sort by index.
std::string log_key(raft::Index index);
// Inverse of log_key; nullopt if `key` is not 8 bytes.
std::optional<raft::Index> parse_log_key(std::string_view key);

struct RaftLogStoreOptions {
  uint64_t cache_bytes = kDefaultLogCacheBytes;
};

class RaftLogStore : public raft::LogStorage {
 public:
  // Produces a snapshot to send, given the latest metadata the store
  // recorded: that one with the state machine's image as of meta.index or
  // later, or an earlier recorded one whose log entries the server keeps
  // (an image built before `latest` was recorded). An error makes
  // snapshot() answer kSnapshotTemporarilyUnavailable, so raft retries later.
  using SnapshotSource =
      std::function<corral::Result<raft::Snapshot>(const raft::SnapshotMetadata& latest)>;

  // Loads the state from `engine` (recovery after a restart) and checks that
  // it is consistent; kStorage if not. The engine must outlive the store.
  static corral::Result<std::unique_ptr<RaftLogStore>> open(
      Engine* engine, RaftLogStoreOptions options = RaftLogStoreOptions());

  // raft::LogStorage
  raft::InitialState initial_state() const override;
  raft::Result<std::vector<raft::Entry>> entries(raft::Index lo, raft::Index hi,
                                                 uint64_t max_bytes) const override;
  raft::Result<raft::Term> term(raft::Index i) const override;
  raft::Index first_index() const override;
  raft::Index last_index() const override;
  // Metadata of the latest snapshot with data from the source. With no
  // snapshot yet, an empty Snapshot (index 0). With a snapshot but no source
  // or a failing source, kSnapshotTemporarilyUnavailable.
  raft::Result<raft::Snapshot> snapshot() const override;

  void set_snapshot_source(SnapshotSource source);
  // The metadata of the latest snapshot recorded (index 0: none).
  const raft::SnapshotMetadata& snapshot_metadata() const { return visible_.snapshot; }

  // ---- staging (see the file comment); errors change nothing ----

  // Appends entries, first dropping any suffix of the log from the first new
  // index on (a conflicting suffix). Entries already compacted are skipped.
  // kUnavailable for non-consecutive input or a gap after last_index().
  corral::Status stage_append(WriteBatch& batch, const std::vector<raft::Entry>& entries);
  void stage_hard_state(WriteBatch& batch, const raft::HardState& hs);
  // Membership of a new cluster (bootstrap), or as of the applied index.
  void stage_conf_state(WriteBatch& batch, const raft::ConfState& cs);
  // Replaces the whole log by a received snapshot: the log becomes empty at
  // meta.index, conf state becomes meta.conf_state. kCompacted if the
  // snapshot is not newer than the current one.
  corral::Status stage_apply_snapshot(WriteBatch& batch, const raft::SnapshotMetadata& meta);
  // Records that the server made a snapshot of the state machine at index i
  // with membership cs (also becomes the conf state). kCompacted if not newer
  // than the current snapshot or i is already compacted, kUnavailable past
  // last_index(). Does not compact: call stage_compact too.
  corral::Result<raft::SnapshotMetadata> stage_create_snapshot(WriteBatch& batch, raft::Index i,
                                                               const raft::ConfState& cs);
  // Drops entries <= index; term(index) stays known as term(first_index()-1).
  // kCompacted if already dropped, kUnavailable past last_index().
  corral::Status stage_compact(WriteBatch& batch, raft::Index index);

  // The staged batch was written: staged changes become visible. No sealed
  // write may be in flight.
  void on_written();
  // The staged batch was not written: forget staged changes.
  void abandon_staged();
  bool has_staged() const { return staged_.has_value(); }

  // Asynchronous writes (see the file comment). seal_staged: false if
  // nothing was staged.
  bool seal_staged();
  void on_sealed_written();
  size_t sealed_in_flight() const { return sealed_.size(); }
  // Hard state as of everything staged or sealed (what the disk will hold).
  const raft::HardState& latest_hard_state() const { return latest().hard_state; }

  // Observability for tests and metrics.
  uint64_t cache_bytes() const { return cache_bytes_; }
  size_t cached_entries() const { return cache_.size(); }

 private:
  // A run of entries of one term: indices [first, next run's first).
  struct TermRun {
    raft::Index first = 0;
    raft::Term term = 0;
  };
  // Everything about the log that is not entry payload.
  struct State {
    raft::HardState hard_state;
    raft::ConfState conf_state;
    raft::SnapshotMetadata snapshot;
    LogMark start;            // entry before the first kept one
    raft::Index last = 0;     // last index (start.index if the log is empty)
    std::vector<TermRun> runs;  // terms of entries start.index+1 .. last
  };
  // Changes to the entry cache, replayed by on_written.
  struct CacheAppend {
    std::vector<raft::Entry> entries;
  };
  struct CacheReset {};
  struct CacheCompact {
    raft::Index index;
  };
  using CacheOp = std::variant<CacheAppend, CacheReset, CacheCompact>;

  // A sealed write in flight: the state and cache changes it makes visible.
  struct Sealed {
    State state;
    std::vector<CacheOp> cache_ops;
  };

  RaftLogStore(Engine* engine, RaftLogStoreOptions options);

  // What staging builds on: staged, else the newest sealed, else visible.
  const State& latest() const;
  State& staged();
  void make_visible(State state, std::vector<CacheOp>& cache_ops);
  static raft::Result<raft::Term> term_in(const State& s, raft::Index i);
  static void truncate_runs(State& s, raft::Index after);
  static void append_runs(State& s, const std::vector<raft::Entry>& entries, size_t from);
  void apply_cache_op(CacheOp& op);
  void cache_push(raft::Entry entry);
  void cache_evict();
  // Entries [lo, hi) read from RocksDB; a missing or corrupt record is a
  // broken invariant (the log is ours), so it stops the process.
  void read_from_engine(raft::Index lo, raft::Index hi, uint64_t max_bytes, uint64_t& bytes,
                        std::vector<raft::Entry>& out) const;

  Engine* engine_;
  RaftLogStoreOptions options_;
  SnapshotSource snapshot_source_;
  State visible_;
  std::optional<State> staged_;
  std::vector<CacheOp> staged_cache_ops_;
  std::deque<Sealed> sealed_;  // oldest first
  // Tail of the log: contiguous entries ending at visible_.last (or empty).
  std::deque<raft::Entry> cache_;
  uint64_t cache_bytes_ = 0;
};

}  // namespace corral::storage
