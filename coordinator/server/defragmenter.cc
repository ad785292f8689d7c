#include "coordinator/server/defragmenter.h"

#include "coordinator/server/backend_quota.h"

namespace corral::server {

Defragmenter::~Defragmenter() {
  if (thread_.joinable()) thread_.join();
}

void Defragmenter::start() {
  if (thread_.joinable()) return;
  done_.store(false);
  thread_ = std::thread([this] {
    DefragmentOutcome out;
    auto before = backend_bytes(engine_);
    out.status = before.ok() ? defragment_backend(engine_) : corral::Status(before.error());
    if (out.status.ok()) {
      auto after = backend_bytes(engine_);
      if (after.ok()) {
        out.bytes_before = *before;
        out.bytes_after = *after;
      } else {
        out.status = after.error();
      }
    }
    outcome_ = std::move(out);
    done_.store(true, std::memory_order_release);
  });
}

std::optional<DefragmentOutcome> Defragmenter::take_outcome() {
  if (!thread_.joinable() || !done_.load(std::memory_order_acquire)) return std::nullopt;
  thread_.join();
  return std::move(outcome_);
}

}  // namespace corral::server
