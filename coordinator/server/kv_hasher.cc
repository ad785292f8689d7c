#include "coordinator/server/kv_hasher.h"

namespace corral::server {

KvHasher::KvHasher(std::function<void()> wake) : wake_(std::move(wake)) {
  thread_ = std::thread([this] { run(); });
}

KvHasher::~KvHasher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool KvHasher::submit(HashJob job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Done jobs count too: the loop has not answered them yet.
    if (queue_.size() + running_ + done_.size() >= kMaxHashJobs) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

std::vector<HashJob> KvHasher::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<HashJob> out;
  out.swap(done_);
  return out;
}

void KvHasher::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    HashJob job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    job.hash = kv::hash_kv(*job.view, job.revision, job.current, job.compact);
    job.view.reset();  // the snapshot pins memtables and files: let them go now
    lock.lock();
    --running_;
    done_.push_back(std::move(job));
    lock.unlock();
    wake_();
    lock.lock();
  }
}

}  // namespace corral::server
