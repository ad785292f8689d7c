// Where a collector writes the lines of its tasks.
//
// The collector hands over batches of whole lines per task (bytes ending in
// '\n', exactly as in the source file), then asks for durability before it
// commits a checkpoint:
//
//   append(task, lines, deadline)  -> ok | kFull (backpressure) | error
//   make_durable(task)             -> ok once every appended byte survives
//   close(task)                    -> the task moved away: sync and forget it
//
// Contract, the same for every sink:
// - Memory is bounded whatever the reader does: a sink never queues without
//   limit. A slow sink slows the collector: append blocks (the file and
//   stdout sinks, until the write is done) or waits until `deadline` and then
//   answers kFull having appended nothing (the ZeroMQ sink, at its high-water
//   mark). On kFull the collector keeps the batch and retries, which stops its
//   fetching for that task: that is the backpressure.
// - An error is never reported as success. After any error other than kFull
//   or kBadInput the bytes appended since the last successful make_durable
//   are in an unknown state: the collector must stop the task, not commit a
//   checkpoint past its last durable one, and resume from that checkpoint
//   (duplicates, never loss). The file sink keeps answering the error for
//   that task until close(task).
// - Thread safety: every sink serializes its calls with its own mutex; calls
//   may come from several threads.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "agent/sink/error.h"

namespace corral::agent::sink {

using Clock = std::chrono::steady_clock;

class Sink {
 public:
  virtual ~Sink() = default;

  // Appends `lines` (empty, or whole lines ending in '\n') to `task`
  // ("<app>/<topic>/<machine-ip>"). All or nothing as far as the sink can
  // tell: a failed append leaves nothing of this batch behind in the file
  // sink (it truncates back), and kFull means nothing was taken.
  virtual Status append(std::string_view task, std::string_view lines, Clock::time_point deadline) = 0;

  // Returns ok only once every byte appended to `task` is as durable as this
  // sink can make it (fsync for files; see each sink's header for its limit).
  virtual Status make_durable(std::string_view task) = 0;

  // The task moved away or stopped: make it durable and release what it
  // holds (the open file). Clears a failed task's error. Closing an unknown
  // task is ok.
  virtual Status close(std::string_view task) = 0;

  // "file:/var/lib/corral/sink", "stdout", "zmq:tcp://..." for logs.
  virtual std::string describe() const = 0;
};

}  // namespace corral::agent::sink
