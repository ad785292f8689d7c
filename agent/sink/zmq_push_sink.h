// Batches to a ZeroMQ PUSH socket: one two-frame message [task, lines] per
// append, for a downstream PULL (or several, round-robin).
//
// Memory is bounded by the socket's send high-water mark: at most
// `send_hwm` messages (each at most one batch, i.e. the collector's fetch max
// bytes) wait in the agent, plus the kernel's socket buffers. When the mark
// is reached, append waits until its deadline and answers kFull having sent
// nothing: the collector keeps the batch and stops fetching that task.
//
// Durability is weak, and this is the limit to know: make_durable means
// "handed to ZeroMQ". ZeroMQ has no acknowledgement, so what is queued in
// this process, in flight, or in the receiver's queue is lost if either side
// crashes after the collector committed its checkpoint. At-most-once past the
// hand-over; use the file sink for no loss.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <zmq.hpp>

#include "agent/sink/failed_tasks.h"
#include "agent/sink/sink.h"

namespace corral::agent::sink {

inline constexpr int kDefaultZmqSendHwm = 16;  // messages
inline constexpr std::chrono::milliseconds kDefaultZmqLinger{1000};

struct ZmqPushOptions {
  std::string endpoint;  // tcp://HOST:PORT (or any ZeroMQ transport)
  bool bind = false;     // false: connect to a PULL that binds (the usual fan-in)
  int send_hwm = kDefaultZmqSendHwm;
  // How long destruction waits for queued messages to leave.
  std::chrono::milliseconds linger = kDefaultZmqLinger;
};

class ZmqPushSink final : public Sink {
 public:
  // kBadSpec if the endpoint cannot be connected or bound (the message names it).
  static Result<std::unique_ptr<ZmqPushSink>> open(ZmqPushOptions options);
  ~ZmqPushSink() override;

  Status append(std::string_view task, std::string_view lines, Clock::time_point deadline) override;
  Status make_durable(std::string_view task) override;
  Status close(std::string_view task) override;
  std::string describe() const override;

  // The endpoint as ZeroMQ reports it (a bound "tcp://127.0.0.1:*" gets its port).
  std::string endpoint() const;

 private:
  explicit ZmqPushSink(ZmqPushOptions options);
  Status send_batch(std::string_view task, std::string_view lines, Clock::time_point deadline);

  const ZmqPushOptions options_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string endpoint_;
  std::mutex mu_;  // a ZeroMQ socket is not thread-safe
  FailedTasks failed_;
};

}  // namespace corral::agent::sink
