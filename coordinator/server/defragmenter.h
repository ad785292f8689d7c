// Runs one defragment at a time on a thread of its own, so that the node
// loop goes on serving (and keeping its leadership) while RocksDB rewrites
// the key space's tables. The loop starts a run and collects its outcome on
// a later turn; requests that arrive during a run share its outcome.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>

#include "coordinator/base/result.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

struct DefragmentOutcome {
  corral::Status status;
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
};

class Defragmenter {
 public:
  explicit Defragmenter(storage::Engine& engine) : engine_(engine) {}
  ~Defragmenter();  // waits for a run in progress
  Defragmenter(const Defragmenter&) = delete;
  Defragmenter& operator=(const Defragmenter&) = delete;

  // Starts a run unless one is in progress.
  void start();
  bool running() const { return thread_.joinable(); }
  // The outcome of the run, once it has ended (then the defragmenter is idle
  // again); nullopt while it runs or when none was started.
  std::optional<DefragmentOutcome> take_outcome();

 private:
  storage::Engine& engine_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  DefragmentOutcome outcome_;  // written by the thread before done_, read after
};

}  // namespace corral::server
