// The source's side of the fetch protocol: a ZeroMQ ROUTER bound on the
// agent's listen endpoint, answering FetchRequests and StreamsRequests from
// a Tailer. Collectors name a stream and a file id, never a path: only the
// tailer's configured streams can be read.
//
// Runs on the thread that calls poll_once()/run(); owns no threads. That
// thread also drives the tailer (its inotify fd and periodic rescans), so
// the tailer and the server must not be used from another thread meanwhile.
//
// Bounds:
//  - answers carry at most kMaxReplyDataBytes of data (fetch_types.h);
//  - requests queued per connection: max_queued_requests_per_connection
//    (ZMQ_RCVHWM; requests are answered in order as they are read, so this
//    is the connection's bound on requests in flight; past it TCP holds the
//    collector back);
//  - answers queued per connection: max_queued_replies_per_connection
//    (ZMQ_SNDHWM), as many as the requests a connection may have in flight,
//    so that a collector within its window (corral-agent allows at most 64
//    fetches in flight per source) never loses an answer; their bytes are
//    bounded by the collector's own in-flight byte budget. An answer to a
//    connection past that bound (or gone) is dropped and counted: the
//    collector's request times out and is resent, which is safe because
//    fetches are positional and idempotent, but costs the timeout;
//  - request frames: above kMaxRequestBytes answered tooLarge; above
//    kMaxAcceptedFrameBytes ZeroMQ drops the connection;
//  - bytes that do not decode: a FetchResponse with id 0 and badRequest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/fetch/fetch_types.h"
#include "agent/source/tailer.h"
#include "coordinator/net/zmq_client_listener.h"

namespace corral::agent::source {

inline constexpr int kDefaultMaxQueuedRequestsPerConnection = 64;
inline constexpr int kDefaultMaxQueuedRepliesPerConnection = kDefaultMaxQueuedRequestsPerConnection;
inline constexpr int64_t kMaxAcceptedFrameBytes = 1 << 20;
// Requests handled per poll_once, so that the tailer's rescans are not
// starved by a busy socket.
inline constexpr size_t kMaxRequestsPerPoll = 64;
// run()'s longest sleep: how soon it sees the stop flag.
inline constexpr auto kRunPollTimeout = std::chrono::milliseconds(100);

struct FetchServerOptions {
  std::string listen_endpoint;  // tcp://IP:PORT; port 0 picks one (see bound_endpoint)
  int max_queued_requests_per_connection = kDefaultMaxQueuedRequestsPerConnection;
  int max_queued_replies_per_connection = kDefaultMaxQueuedRepliesPerConnection;
};

struct FetchServerStats {
  uint64_t requests = 0;         // decoded requests answered
  uint64_t malformed = 0;        // frames that did not decode (answered badRequest)
  uint64_t dropped_replies = 0;  // answers dropped: connection full or gone
};

class FetchServer {
 public:
  // kUnavailable if the endpoint cannot be bound; kBadRequest for bad options.
  // `tailer` must outlive the server.
  static fetch::Result<std::unique_ptr<FetchServer>> create(zmq::context_t& context, Tailer& tailer,
                                                            const FetchServerOptions& options);
  FetchServer(const FetchServer&) = delete;
  FetchServer& operator=(const FetchServer&) = delete;

  // "tcp://IP:PORT" really bound (port 0 resolved).
  std::string bound_endpoint() const;

  // Waits up to `timeout` for requests or file changes, then answers what
  // came and lets the tailer rescan when due. kUnavailable when the ZeroMQ
  // context is shutting down.
  fetch::Status poll_once(std::chrono::milliseconds timeout);
  // poll_once until `stop` is true (checked at least every kRunPollTimeout).
  fetch::Status run(const std::atomic<bool>& stop);

  const FetchServerStats& stats() const { return stats_; }
  // For a caller with a poll loop of its own: poll this socket and
  // tailer.fd(), then call poll_once(0ms).
  zmq::socket_ref socket() { return listener_->socket(); }

 private:
  FetchServer(Tailer& tailer, std::unique_ptr<net::ZmqClientListener> listener)
      : tailer_(tailer), listener_(std::move(listener)) {}
  fetch::AgentResponse answer(const std::string& payload);

  Tailer& tailer_;
  std::unique_ptr<net::ZmqClientListener> listener_;
  std::vector<net::ClientRequest> batch_;
  FetchServerStats stats_;
};

}  // namespace corral::agent::source
