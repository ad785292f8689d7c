#include "coordinator/server/storage_writer.h"

#include <utility>

namespace corral::server {

StorageWriter::StorageWriter(storage::Engine& engine, std::function<void()> wake, StorageWriterLimits limits,
                             SyncObserver synced)
    : engine_(engine), wake_(std::move(wake)), limits_(limits), synced_(std::move(synced)), thread_([this] { run(); }) {}

StorageWriter::~StorageWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

bool StorageWriter::submit(storage::WriteBatch&& batch, raft::Index index, raft::Term term, bool sync) {
  const uint64_t bytes = batch.size_bytes();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t count = queue_.size() + running_;
    // An empty writer takes any batch: a single Ready larger than the byte
    // bound must still be written somewhere.
    if (count > 0 && (count >= limits_.max_batches || bytes_ + bytes > limits_.max_bytes)) return false;
    queue_.push_back(Job{std::move(batch), index, term, bytes, sync});
    bytes_ += bytes;
  }
  work_cv_.notify_one();
  return true;
}

std::vector<StorageWriter::Done> StorageWriter::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Done> out;
  out.swap(done_);
  return out;
}

void StorageWriter::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

size_t StorageWriter::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + running_;
}

void StorageWriter::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and every write is done
    // Everything queued now is one run: written in order, the last synced
    // if any of them asked for a sync.
    std::deque<Job> run;
    run.swap(queue_);
    running_ = run.size();
    lock.unlock();
    std::vector<Done> results;
    uint64_t bytes = 0;
    Status failed;
    bool sync = false;
    for (const Job& job : run) sync = sync || job.sync;
    for (Job& job : run) {
      bytes += job.bytes;
      if (failed.ok()) failed = engine_.write(std::move(job.batch), false);
      // Nothing in a run is durable before the sync below.
      results.push_back(Done{job.index, job.term, Status()});
    }
    // The sync outside RocksDB's write queue: a write with sync set holds
    // that queue through its fsync, and the loop's unlogged apply writes
    // waited behind it (the leader's apply took 3x a follower's).
    if (sync && failed.ok()) {
      const auto start = std::chrono::steady_clock::now();
      failed = engine_.sync_wal();
      if (synced_) synced_(std::chrono::steady_clock::now() - start);
    }
    for (Done& d : results) d.status = failed;
    lock.lock();
    done_.insert(done_.end(), results.begin(), results.end());
    lock.unlock();
    wake_();
    // Idle only after the wake-up: whoever drained also had its loop woken.
    lock.lock();
    running_ = 0;
    bytes_ -= bytes;
    idle_cv_.notify_all();
  }
}

}  // namespace corral::server
