#include "coordinator/server/password_worker.h"

#include "coordinator/auth/password.h"

namespace corral::server {

PasswordWorker::PasswordWorker(std::function<void()> wake) : wake_(std::move(wake)) {
  thread_ = std::thread([this] { run(); });
}

PasswordWorker::~PasswordWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PasswordWorker::submit(PasswordCheck check) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Done results count too: the loop has not taken them yet.
    if (queue_.size() + done_.size() >= kMaxQueuedChecks || queued_bytes_ + bytes_of(check) > kMaxQueuedBytes) {
      return false;
    }
    queued_bytes_ += bytes_of(check);
    queue_.push_back(std::move(check));
  }
  cv_.notify_one();
  return true;
}

std::vector<PasswordCheck> PasswordWorker::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PasswordCheck> out;
  out.swap(done_);
  for (const auto& c : out) queued_bytes_ -= bytes_of(c);
  return out;
}

size_t PasswordWorker::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void PasswordWorker::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    PasswordCheck check = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    check.matched = auth::verify_password(check.password, check.stored_hash);
    check.password.assign(check.password.size(), '\0');  // not kept longer than needed
    lock.lock();
    done_.push_back(std::move(check));
    lock.unlock();
    wake_();
    lock.lock();
  }
}

}  // namespace corral::server
