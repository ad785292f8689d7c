// The MVCC key space (etcd v3 semantics) on the storage engine.
//
// Layout: space kKv holds one record (KeyValueRecord) per change under its
// revision key (revision_key.h); space kKvMeta holds the KvStateRecord
// (applied raft index, current and compact revision) under kKvStateKey. The
// KeyIndex in memory maps each key to its revisions; it is rebuilt by a scan
// of kKv at open.
//
// Writes: begin_write(raft_index) opens the one write transaction; every
// change in it shares one new main revision with increasing sub revisions,
// and reads through it see its earlier writes. commit(batch) stages the
// records and the state record into the caller's batch, so key space and
// applied index move together; the caller writes the batch (any number of
// commits may share one) and then calls batch_written(). Until then the
// store serves the staged records from memory.
//
// Not thread-safe: the caller serialises every call (server/ owns threads).
// No clock and no randomness: the same calls give the same state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/kv/key_index.h"
#include "coordinator/kv/key_value.h"
#include "coordinator/kv/record_codec.h"
#include "coordinator/kv/requests.h"
#include "coordinator/storage/engine.h"

namespace corral::kv {

class MvccStore;

class WriteTxn {
 public:
  WriteTxn(WriteTxn&& other) noexcept;
  WriteTxn& operator=(WriteTxn&&) = delete;
  WriteTxn(const WriteTxn&) = delete;
  ~WriteTxn();  // without commit(): every change is undone

  // Each op either applies fully or returns an error and changes nothing.
  Result<PutResult> put(std::string_view key, std::string_view value, LeaseId lease = 0,
                        const PutOptions& options = {});
  Result<DeleteResult> delete_range(std::string_view key, std::string_view range_end = {},
                                    bool prev_kv = false);
  // Revision 0 reads this txn's view (its writes included).
  Result<RangeResult> range(std::string_view key, std::string_view range_end = {},
                            const RangeOptions& options = {}) const;
  // The whole request is validated first; any failure undoes all of it.
  Result<TxnResult> txn(const TxnRequest& request);

  Revision revision() const { return main_; }  // the revision this txn writes at
  bool changed() const { return !changes_.empty(); }
  // The changes made so far, in order, each with its prev_kv: apply's
  // assignment pass reacts to a request's changes inside its revision.
  size_t change_count() const { return changes_.size(); }
  const Event& change(size_t i) const { return changes_[i].event; }

  // Stages the changes and the state (applied index, revisions) into
  // `batch`. A txn that changed nothing keeps the revision and returns no
  // events, but still records the applied index.
  RevisionEvents commit(storage::WriteBatch& batch);
  // The same, but the state record is left for the caller to stage once, in
  // the same batch, with MvccStore::record_applied_index: a batch of many
  // small txns (a lease grant batch) then stages it once, not per txn.
  RevisionEvents commit_changes(storage::WriteBatch& batch);

 private:
  friend class MvccStore;
  struct Change {
    Rev rev;
    Event event;  // event.kv is the stored record (a tombstone: key and mod_revision)
  };
  struct Savepoint {
    size_t changes = 0;
    int64_t next_sub = 0;
  };

  WriteTxn(MvccStore* store, uint64_t raft_index);
  Savepoint savepoint() const { return Savepoint{changes_.size(), next_sub_}; }
  void rollback(const Savepoint& sp);
  Result<PutResult> do_put(std::string_view key, std::string_view value, LeaseId lease,
                           const PutOptions& options);
  Result<DeleteResult> do_delete(std::string_view key, std::string_view range_end, bool prev_kv);
  Result<TxnResult> do_txn(const TxnRequest& request);
  Result<bool> compare_holds(const Compare& c) const;
  Revision view_revision() const { return changed() ? main_ : main_ - 1; }

  MvccStore* store_;
  uint64_t raft_index_;
  Revision main_;
  int64_t next_sub_ = 0;
  std::vector<Change> changes_;
  std::map<Rev, size_t> change_at_;  // rev -> index in changes_, for reads
  bool open_ = true;
};

class MvccStore {
 public:
  // Rebuilds the index and state from what `engine` holds (empty: a new store).
  static Result<std::unique_ptr<MvccStore>> open(storage::Engine& engine);
  MvccStore(const MvccStore&) = delete;
  MvccStore& operator=(const MvccStore&) = delete;

  Revision current_revision() const { return state_.current_revision; }
  Revision compact_revision() const { return state_.compact_revision; }
  uint64_t applied_index() const { return state_.applied_index; }
  size_t indexed_keys() const { return index_.key_count(); }
  // The live keys that carry a lease, (lease, key) in key order, as open()
  // found them (each key's newest record): what a lessor's attachments are
  // rebuilt from, without a second pass over every value. Empty once taken.
  std::vector<std::pair<LeaseId, std::string>> take_leased_at_open() { return std::move(leased_at_open_); }

  // Errors: kBadRequest / kTooLarge on bad input, kCompacted (error.revision =
  // compact revision) below the compact revision, kFutureRevision
  // (error.revision = current) above the current one.
  Result<RangeResult> range(std::string_view key, std::string_view range_end = {},
                            const RangeOptions& options = {}) const;
  // Direct children of the '/'-separated path `dir` ("/apps/web" and
  // "/apps/web/" are the same), at `revision` (0 = current).
  Result<ListResult> list(std::string_view dir, Revision revision = 0) const;
  // History for watches: the changes to keys of [key, range_end) at
  // revisions >= from, oldest first, grouped by revision, each with its
  // prev_kv. Stops at a revision boundary once max_events are gathered (a
  // revision is never split, so it may return a few more). kCompacted
  // (error.revision = compact revision) when from < compact revision, as for
  // range: the changes at the compact revision itself, with their prev_kv,
  // survive compaction (etcd serves a watch from its compact revision).
  Result<std::vector<RevisionEvents>> events(Revision from, std::string_view key,
                                             std::string_view range_end, size_t max_events) const;
  // The record the put of `key` at main revision `revision` overwrote
  // (prev_kv of a put event that came without one); nullopt if that put
  // created the key, or if compaction has dropped the record since.
  Result<std::optional<KeyValue>> previous_kv(std::string_view key, Revision revision) const;

  // Whether a put that overwrites a key reads the old record into its
  // event's prev_kv (and into nothing else: create_revision and version come
  // from the index). On by default. Off, an overwrite costs no read of the
  // engine; its event then has no prev_kv, and whoever needs the old record
  // asks previous_kv() (watchers that want prev_kv) or keeps what it needs
  // itself (the old lease: Lessor::lease_of). A put with prev_kv,
  // ignore_value or ignore_lease reads it either way.
  void set_prev_kv_in_events(bool on) { prev_kv_in_events_ = on; }

  // The one write transaction; raft_index never goes down.
  WriteTxn begin_write(uint64_t raft_index);
  // Forgets every revision below `revision` that no read at or above it and
  // no history from it needs (KeyIndex::compact), and stages the deletion of
  // those records into `batch` (all in this batch, not in chunks), with the
  // new compact revision.
  Status compact(Revision revision, storage::WriteBatch& batch);
  // For an applied entry that changed nothing here.
  void record_applied_index(uint64_t raft_index, storage::WriteBatch& batch);
  // Every batch staged so far was written to the engine.
  void batch_written() { unwritten_.clear(); }

 private:
  friend class WriteTxn;
  explicit MvccStore(storage::Engine& engine) : engine_(engine) {}
  Status restore();
  Status check_read_revision(Revision revision) const;
  // Gathers events() answers: whole revisions, oldest first, each change
  // with its prev_kv, until max_events are held.
  class EventCollector {
   public:
    EventCollector(const MvccStore& store, const KeyRange& range, size_t max_events)
        : store_(store), range_(range), max_events_(max_events) {}
    // Changes must come in revision order; false once the answer is full
    // (at a revision boundary). A key outside the range is skipped.
    Result<bool> add(Rev rev, bool tombstone, KeyValue kv);
    size_t max_events() const { return max_events_; }
    std::vector<RevisionEvents> take() { return std::move(out_); }

   private:
    const MvccStore& store_;
    const KeyRange& range_;
    size_t max_events_;
    size_t gathered_ = 0;
    std::vector<RevisionEvents> out_;
  };
  Status events_by_scan(Revision from, EventCollector& collect) const;
  Status events_by_index(Revision from, const KeyRange& range, EventCollector& collect) const;
  // The record at `rev`: from the open txn, staged batches, then the engine.
  Result<KeyValue> read_record(Rev rev, const WriteTxn* txn) const;
  // The record of a change the index names: a put or a delete (tombstone).
  Result<KeyValue> read_change(Rev rev, bool tombstone) const;
  Result<RangeResult> range_in(const KeyRange& range, const RangeOptions& options, Revision at,
                               Revision answered, const WriteTxn* txn) const;
  void stage_state(storage::WriteBatch& batch) const;

  storage::Engine& engine_;
  KeyIndex index_;
  std::vector<std::pair<LeaseId, std::string>> leased_at_open_;
  bool prev_kv_in_events_ = true;
  KvState state_;
  // Records staged into batches that the caller has not written yet, in
  // ascending revision (commits append newer revisions): a vector, not a
  // tree, as a lease grant batch stages thousands per apply.
  struct StagedRecord {
    Rev rev;
    bool tombstone = false;
    KeyValue kv;
  };
  std::vector<StagedRecord> unwritten_;
  const StagedRecord* find_unwritten(Rev rev) const;
  bool write_open_ = false;
};

}  // namespace corral::kv
