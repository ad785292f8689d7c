// A thread of the member's that works through jobs the node loop hands it
// (password checks, HashKV), so that slow work never holds up the loop: the
// loop submits a job and goes on; the worker does it and calls `wake`; the
// loop takes the finished jobs on its next turn (take_done) and answers them.
//
// Bounded: jobs waiting, in hand, or done and not yet taken count against
// max_jobs and (as `bytes_of` measures them) max_bytes; past either,
// submit() refuses and the caller answers unavailable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace corral::server {

template <typename Job>
class JobWorker {
 public:
  struct Limits {
    size_t max_jobs = 0;
    uint64_t max_bytes = std::numeric_limits<uint64_t>::max();
  };
  using Work = std::function<void(Job&)>;
  using BytesOf = std::function<uint64_t(const Job&)>;

  // `work` runs on the worker thread, one job at a time, in submission
  // order; `wake` is called from it after each job.
  JobWorker(Work work, std::function<void()> wake, Limits limits, BytesOf bytes_of = {})
      : work_(std::move(work)), wake_(std::move(wake)), limits_(limits), bytes_of_(std::move(bytes_of)) {
    thread_ = std::thread([this] { run(); });
  }
  ~JobWorker() {  // finishes the job in hand, drops the rest, joins
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  // False, and nothing taken, past either bound.
  bool submit(Job job) {
    const uint64_t bytes = bytes_of_ ? bytes_of_(job) : 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() + running_ + done_.size() >= limits_.max_jobs || bytes > limits_.max_bytes - bytes_) {
        return false;
      }
      bytes_ += bytes;
      queue_.push_back({std::move(job), bytes});
    }
    cv_.notify_one();
    return true;
  }

  // The jobs finished since the last call, in submission order.
  std::vector<Job> take_done() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Job> out;
    out.reserve(done_.size());
    for (auto& [job, bytes] : done_) {
      bytes_ -= bytes;
      out.push_back(std::move(job));
    }
    done_.clear();
    return out;
  }

  // Jobs not yet started.
  size_t waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      auto entry = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      lock.unlock();
      work_(entry.first);
      lock.lock();
      --running_;
      done_.push_back(std::move(entry));
      lock.unlock();
      wake_();
      lock.lock();
    }
  }

  const Work work_;
  const std::function<void()> wake_;
  const Limits limits_;
  const BytesOf bytes_of_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Job, uint64_t>> queue_;  // with its bytes; guarded by mu_
  size_t running_ = 0;                          // guarded by mu_
  std::vector<std::pair<Job, uint64_t>> done_;  // guarded by mu_
  uint64_t bytes_ = 0;                          // queued, running and done; guarded by mu_
  bool stop_ = false;                           // guarded by mu_
  std::thread thread_;                          // last: starts once the rest is built
};

}  // namespace corral::server
