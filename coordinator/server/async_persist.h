// The leader's raft log writes off the loop thread (etcd raft's
// asynchronous storage writes; issue 12): the loop stages a leader's Ready
// (entries, commit index) into the raft log store, seals it as a write in
// flight and hands the batch to the StorageWriter; it goes on sending,
// receiving and applying meanwhile. When the writer wakes the loop,
// collect() makes the written state visible in the store and reports the
// persisted position to raft (RawNode::advance_append), which only then
// counts the leader's own entries toward commit and lets it apply them.
//
// Until then raft serves those entries from its own unstable log (it keeps
// them there until advance_append), so nothing reads them from the store
// before they are written.
//
// Only a leader's Ready that changes neither term nor vote and installs no
// snapshot goes to the writer (takes()). Everything else, a follower's
// append above all (it acknowledges only after its sync), is written on the
// loop thread as before, after drain(): the writes in flight finish first,
// so a truncation by a new leader, a snapshot, a compaction or a membership
// record never overtakes them on disk or in the store.
//
// A failed write stops the member (stop_on_storage_failure): the disk state
// is unknown. A full writer queue (count or bytes) makes submit() drain it
// and write on the loop thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "coordinator/raft/raw_node.h"
#include "coordinator/server/storage_writer.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"

namespace corral::server {

class AsyncPersist {
 public:
  // The engine, store and node must outlive this; `wake` wakes the loop
  // (any thread).
  AsyncPersist(storage::Engine& engine, storage::RaftLogStore& store, raft::RawNode& raw,
               std::function<void()> wake, StorageWriterLimits limits = {},
               StorageWriter::SyncObserver synced = {});
  ~AsyncPersist();  // finishes the writes in flight (not reported)

  // Whether this Ready's writes may go to the writer.
  bool takes(const raft::Ready& rd, bool is_leader) const;
  // Stages and hands over rd.entries and rd.hard_state (takes() was true).
  void submit(const raft::Ready& rd);
  // Reports the writes finished since the last call.
  void collect();
  // Waits until no write is in flight, then collect().
  void drain();
  size_t in_flight() const { return store_.sealed_in_flight(); }
  // Writes the full writer queue refused (done on the loop thread); any thread.
  uint64_t queue_full_count() const { return queue_full_.load(); }

 private:
  void finished(raft::Index index, raft::Term term);
  void write_here(storage::WriteBatch batch, raft::Index index, raft::Term term, bool sync);

  storage::Engine& engine_;
  storage::RaftLogStore& store_;
  raft::RawNode& raw_;
  std::atomic<uint64_t> queue_full_{0};
  std::unique_ptr<StorageWriter> writer_;
};

}  // namespace corral::server
