// The client connection on plain TCP (ClientWire::kTcp): a non-blocking
// connect from the owner's thread, then frame_stream.h's frames written at
// once and read by the same thread, through an epoll fd (event_fd()) that a
// Poller can watch. No library thread in between.
//
// What ZeroMQ's socket monitor told the client library comes from the
// connection itself (take_events): connected, closed (an established
// connection dropped), refused (an attempt failed before it was up).
//
// Liveness: an empty frame is sent every heartbeat_interval_ms (the
// listener answers it with an empty frame, and closes a connection that
// sent nothing for its silence timeout: a client that only receives, a
// watcher, must still be heard); when nothing came for
// heartbeat_timeout_ms the connection is dropped, so a hung member
// (SIGSTOP, a pulled cable) is noticed. An attempt not up
// within heartbeat_timeout_ms is given up as refused.
//
// Requests sent while not connected wait here (bounded: max_queued_requests,
// kMaxPendingRequestBytes) and go out in order once it is; requests handed
// to a connection that then drops are lost (the caller's retry rule decides).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "coordinator/net/client_connection.h"
#include "coordinator/net/frame_stream.h"

namespace corral::net {

inline constexpr size_t kMaxPendingRequestBytes = 64u << 20;

enum class ConnectionEvent : uint8_t { kConnected, kClosed, kRefused };

class TcpClientConnection final : public ClientConnection {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<TcpClientConnection>> create(const ClientConnectionOptions& options);
  ~TcpClientConnection() override;

  ClientSendResult send(std::string_view bytes) override;
  // Does the connection's due work first when it holds no reply.
  std::optional<std::string> try_receive() override;
  Result<std::string> receive(std::chrono::milliseconds timeout) override;

  // Readable when the socket has something for pump() (Poller::add_fd).
  int event_fd() const { return epoll_fd_; }
  // Does what the socket signalled (connect done, input, room to write)
  // and the timed work that is due. Never blocks.
  void pump(Clock::time_point now);
  // The timed work alone: reconnects, heartbeats, giving up on a slow
  // connect or a silent member.
  void maintain(Clock::time_point now);
  // When maintain() next has work (a time in the past: now).
  Clock::time_point next_due() const;
  // Connection events since the last call, oldest first.
  std::vector<ConnectionEvent> take_events();
  bool has_events() const { return !events_.empty(); }
  // The oldest reply read (heartbeats skipped) without doing any I/O.
  bool take_frame(std::string& out);
  // Replies read and not yet taken.
  bool holds_input() const;
  bool up() const { return state_ == State::kUp; }
  // Between these, send() only queues: requests made together (one turn of
  // the owner's loop) go out in one write at release_writes().
  void hold_writes();
  void release_writes();

 private:
  enum class State : uint8_t { kIdle, kConnecting, kUp };

  explicit TcpClientConnection(const ClientConnectionOptions& options, int epoll_fd);
  FrameStreamLimits stream_limits() const;
  void connect(Clock::time_point now);
  void came_up(Clock::time_point now);
  // The socket is gone: `event` says how; the next attempt is scheduled.
  void drop(ConnectionEvent event, Clock::time_point now);
  void on_socket(uint32_t events, Clock::time_point now);
  void keep_write_watch();
  // Writes what waited for the connection; false: it failed.
  bool send_pending();

  ClientConnectionOptions options_;
  int epoll_fd_;
  State state_ = State::kIdle;
  std::unique_ptr<FrameStream> stream_;
  bool watching_write_ = false;
  bool held_ = false;
  std::deque<std::string> pending_;  // requests waiting for a connection
  size_t pending_bytes_ = 0;
  std::deque<std::string> orphans_;  // replies read before a connection dropped
  std::vector<ConnectionEvent> events_;
  Clock::time_point next_attempt_{};
  Clock::time_point attempt_started_{};
  Clock::time_point up_since_{};
  Clock::time_point last_received_{};
  Clock::time_point last_ping_{};
  uint64_t bytes_read_at_check_ = 0;
  int backoff_ms_ = 0;
};

}  // namespace corral::net
