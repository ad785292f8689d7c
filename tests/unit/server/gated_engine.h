// A real in-memory engine whose write() can be held at a gate, fail on
// demand, and records whether each write was synced (storage writer tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/storage/engine.h"

namespace corral::testing {

class GatedEngine : public storage::Engine {
 public:
  explicit GatedEngine(const std::string& tag) {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/storage-writer-test-" + tag;
    inner_ = std::move(storage::Engine::open(eo)).value();
  }
  corral::Status write(storage::WriteBatch batch, bool sync) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    syncs_.push_back(sync);
    if (fail_) return corral::Error{corral::ErrorCode::kStorage, "disk gone"};
    lock.unlock();
    return inner_->write(std::move(batch), sync);
  }
  // Recorded as a synced write of nothing.
  corral::Status sync_wal() override { return write(storage::WriteBatch(), true); }
  corral::Status write_unlogged(storage::WriteBatch b) override { return inner_->write_unlogged(std::move(b)); }
  corral::Status flush() override { return inner_->flush(); }
  corral::Result<std::optional<std::string>> get(storage::Space s, std::string_view k) const override {
    return inner_->get(s, k);
  }
  std::unique_ptr<storage::Iterator> scan(storage::Space s, std::string_view lo, std::string_view hi) const override {
    return inner_->scan(s, lo, hi);
  }
  corral::Result<std::optional<std::string>> last_key(storage::Space s, std::string_view lo,
                                              std::string_view hi) const override {
    return inner_->last_key(s, lo, hi);
  }
  corral::Result<int64_t> space_bytes(storage::Space s) const override { return inner_->space_bytes(s); }
  corral::Status compact_space(storage::Space s) override { return inner_->compact_space(s); }
  std::unique_ptr<storage::ReadView> read_view() const override { return inner_->read_view(); }
  corral::Status checkpoint(const std::string& dir) const override { return inner_->checkpoint(dir); }

  void set_open(bool open) {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  void set_fail(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = fail;
  }
  // Waits (bounded) until `n` writes have entered write().
  bool wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }
  std::vector<bool> syncs() {
    std::lock_guard<std::mutex> lock(mu_);
    return syncs_;
  }

 private:
  std::unique_ptr<storage::Engine> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  bool fail_ = false;
  int entered_ = 0;
  std::vector<bool> syncs_;
};

}  // namespace corral::testing
