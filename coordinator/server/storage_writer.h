// The leader's raft log writes (append + fsync) on their own thread, so that
// the loop thread goes on receiving acknowledgements, proposals and reads
// while the disk syncs (etcd raft's asynchronous storage writes).
//
// The loop stages a Ready's entries (and hard state) into a WriteBatch and
// submits it with the log position it ends at; the writer writes batches in
// submission order, each queued run of them with one fsync after it
// (Engine::sync_wal, which leaves RocksDB's write queue free meanwhile: the
// loop's own unlogged writes, applying entries, do not wait for the disk),
// then wakes the loop, which
// collects the persisted positions with take_done() and reports them to raft
// (RawNode::advance_append). A failed write is reported too: the disk state
// is then unknown and the member must stop.
//
// Bounded in count and bytes: submit() refuses past either bound, and the
// caller then waits with drain() and writes on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/raft/types.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

struct StorageWriterLimits {
  size_t max_batches = 1024;
  uint64_t max_bytes = 64ull << 20;  // WriteBatch::size_bytes() of queued and running batches
};

class StorageWriter {
 public:
  // The log is durable up to (index, term) if status is ok.
  struct Done {
    raft::Index index = 0;
    raft::Term term = 0;
    Status status;
  };

  // Time of one run's sync, for a metric (called on the writer thread).
  using SyncObserver = std::function<void(std::chrono::steady_clock::duration)>;

  // Starts the thread. `engine` must outlive the writer; `wake` is called on
  // the writer thread after each run of writes.
  StorageWriter(storage::Engine& engine, std::function<void()> wake, StorageWriterLimits limits = {},
                SyncObserver synced = {});
  ~StorageWriter();  // finishes the queued writes, then joins
  StorageWriter(const StorageWriter&) = delete;
  StorageWriter& operator=(const StorageWriter&) = delete;

  // Queues a write of `batch`, which ends the log at (index, term) (index 0:
  // a write of no entries, e.g. only the commit index). A run of writes is
  // synced when any of them asks for `sync`. False, and `batch` left as it
  // was, past the count or byte bound: the caller writes it itself.
  bool submit(storage::WriteBatch&& batch, raft::Index index, raft::Term term, bool sync = true);
  // Results of the writes finished since the last call, in order.
  std::vector<Done> take_done();
  // Waits until every submitted write has finished (its result stays for
  // take_done()).
  void drain();
  // Submitted writes not yet finished.
  size_t in_flight() const;

 private:
  struct Job {
    storage::WriteBatch batch;
    raft::Index index = 0;
    raft::Term term = 0;
    uint64_t bytes = 0;
    bool sync = true;
  };
  void run();

  storage::Engine& engine_;
  std::function<void()> wake_;
  const StorageWriterLimits limits_;
  const SyncObserver synced_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for jobs
  std::condition_variable idle_cv_;  // drain() waits for the writer
  bool stop_ = false;
  std::deque<Job> queue_;
  size_t running_ = 0;  // jobs taken by the writer, not yet done
  uint64_t bytes_ = 0;  // queued + running
  std::vector<Done> done_;
  std::thread thread_;
};

}  // namespace corral::server
