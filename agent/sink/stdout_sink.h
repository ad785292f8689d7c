// Lines to standard output (or any fd, for tests): for a pipeline such as
// `corral-agent ... --sink stdout | downstream`.
//
// Lines are written with write(2) straight from the batch (no stdio buffer),
// so make_durable has nothing left to flush: durable = fully written to the
// fd. That is at-least-once only as far as the reader of stdout is: bytes in
// the pipe, or in the reader's memory, are lost if the reader crashes after
// the checkpoint was committed. Use the file sink for no loss.
//
// Batches of different tasks are never interleaved (one write loop at a time)
// but nothing marks which task a line came from.
//
// Backpressure: append blocks while the reader does not read (the pipe is
// full); the deadline is not used, since a batch written halfway cannot be
// taken back. A failed write (EPIPE when the reader is gone, which needs
// SIGPIPE ignored by the process, as corral-agent's main must do) may have
// written part of the batch: the task then answers that error until
// close(task).
#pragma once

#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>

#include "agent/sink/failed_tasks.h"
#include "agent/sink/sink.h"

namespace corral::agent::sink {

class StdoutSink final : public Sink {
 public:
  // Does not own `fd` (it is not closed).
  explicit StdoutSink(int fd = STDOUT_FILENO);

  Status append(std::string_view task, std::string_view lines, Clock::time_point deadline) override;
  Status make_durable(std::string_view task) override;
  Status close(std::string_view task) override;
  std::string describe() const override;

 private:
  const int fd_;
  std::mutex mu_;
  FailedTasks failed_;
};

}  // namespace corral::agent::sink
