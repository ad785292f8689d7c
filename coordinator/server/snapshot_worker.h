// The member's background thread for the work that may take seconds and so
// must stay off the node loop (a loop turn that outlasts an election
// timeout costs a leader): building a state image (a snapshot for a lagging
// follower or for `snapshot save`) and flushing RocksDB before the raft log
// is compacted.
//
// The loop hands over a job and goes on; the worker does it and wakes the
// loop, which collects the result with take_done() on its next turn. An
// image is built from a point-in-time view that the loop took (a RocksDB
// snapshot, so apply may go on writing meanwhile) at a known applied index.
// At most one job of each kind is in flight: the queue is bounded by
// construction (a second request while one runs is refused, the caller asks
// again later).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/base/error.h"
#include "coordinator/raft/types.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

// A state image (StateMachine::image format), the applied index of the
// state it holds, and the raft snapshot on record when it was taken
// (meta.index <= applied_index): what a follower installing it starts from.
struct StateImage {
  uint64_t applied_index = 0;
  raft::SnapshotMetadata meta;
  std::string bytes;
};

class SnapshotWorker {
 public:
  struct ImageDone {
    uint64_t applied_index = 0;
    Result<std::shared_ptr<const StateImage>> image;
  };
  struct FlushDone {
    uint64_t applied_index = 0;  // every apply write up to it is on disk if ok
    Status status;
  };
  struct Done {
    std::optional<ImageDone> image;
    std::optional<FlushDone> flush;
  };

  // Starts the thread. `engine` must outlive the worker; `wake` is called
  // from the worker thread when a result is ready.
  SnapshotWorker(storage::Engine& engine, std::function<void()> wake);
  ~SnapshotWorker();  // waits for the running job, then joins
  SnapshotWorker(const SnapshotWorker&) = delete;
  SnapshotWorker& operator=(const SnapshotWorker&) = delete;

  // Builds an image from `view`, the state at `applied_index`. False (and
  // nothing queued) while another image is being built.
  bool build_image(std::unique_ptr<storage::ReadView> view, uint64_t applied_index,
                   const raft::SnapshotMetadata& meta);
  // Flushes every space. Call after every apply write up to `applied_index`
  // returned: a successful flush makes them all durable. False while
  // another flush runs.
  bool flush(uint64_t applied_index);
  bool image_busy() const;
  bool flush_busy() const;
  // Results finished since the last call (each job reports once).
  Done take_done();

 private:
  void run();

  storage::Engine& engine_;
  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  // Queued jobs: at most one of each kind.
  std::unique_ptr<storage::ReadView> image_view_;
  uint64_t image_applied_ = 0;
  raft::SnapshotMetadata image_meta_;
  bool image_running_ = false;
  std::optional<uint64_t> flush_applied_;
  bool flush_running_ = false;
  Done done_;
  std::thread thread_;
};

}  // namespace corral::server
