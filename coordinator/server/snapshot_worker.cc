#include "coordinator/server/snapshot_worker.h"

#include <utility>

#include "coordinator/base/check.h"
#include "coordinator/server/state_machine.h"

namespace corral::server {

SnapshotWorker::SnapshotWorker(storage::Engine& engine, std::function<void()> wake)
    : engine_(engine), wake_(std::move(wake)) {
  thread_ = std::thread([this] { run(); });
}

SnapshotWorker::~SnapshotWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool SnapshotWorker::build_image(std::unique_ptr<storage::ReadView> view, uint64_t applied_index,
                                 const raft::SnapshotMetadata& meta) {
  CORRAL_CHECK(view != nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (image_running_ || image_view_ || done_.image) return false;
    image_view_ = std::move(view);
    image_applied_ = applied_index;
    image_meta_ = meta;
  }
  cv_.notify_all();
  return true;
}

bool SnapshotWorker::flush(uint64_t applied_index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (flush_running_ || flush_applied_ || done_.flush) return false;
    flush_applied_ = applied_index;
  }
  cv_.notify_all();
  return true;
}

bool SnapshotWorker::image_busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return image_running_ || image_view_ != nullptr || done_.image.has_value();
}

bool SnapshotWorker::flush_busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return flush_running_ || flush_applied_.has_value() || done_.flush.has_value();
}

SnapshotWorker::Done SnapshotWorker::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  Done out = std::move(done_);
  done_ = Done{};
  return out;
}

void SnapshotWorker::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || image_view_ || flush_applied_; });
    if (stop_) return;
    // A flush first: it is short next to an image, and the raft log waits for it.
    if (flush_applied_) {
      const uint64_t applied = *flush_applied_;
      flush_applied_.reset();
      flush_running_ = true;
      lock.unlock();
      Status s = engine_.flush();
      lock.lock();
      flush_running_ = false;
      done_.flush = FlushDone{applied, std::move(s)};
    } else {
      std::unique_ptr<storage::ReadView> view = std::move(image_view_);
      const uint64_t applied = image_applied_;
      const raft::SnapshotMetadata meta = image_meta_;
      image_running_ = true;
      lock.unlock();
      auto built = StateMachine::image_of(*view);
      view.reset();  // releases the RocksDB snapshot
      Result<std::shared_ptr<const StateImage>> image =
          built.ok() ? Result<std::shared_ptr<const StateImage>>(
                           std::make_shared<const StateImage>(StateImage{applied, meta, std::move(built).value()}))
                     : Result<std::shared_ptr<const StateImage>>(built.error());
      lock.lock();
      image_running_ = false;
      done_.image = ImageDone{applied, std::move(image)};
    }
    lock.unlock();
    wake_();
    lock.lock();
  }
}

}  // namespace corral::server
