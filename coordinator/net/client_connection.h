// The client side of a client connection: a DEALER connected to one
// endpoint. Requests are one frame each; many may be in flight (the api
// layer matches replies by request id). Not thread-safe.
//
// Unlike peer links, a client queues requests while (re)connecting (no
// ZMQ_IMMEDIATE): a user's first request should not fail because the TCP
// handshake has not finished. The queue is bounded by
// max_queued_requests (ZMQ_SNDHWM); past it send() says kBackpressure.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/net/client_listener.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/socket_options.h"

namespace corral::net {

inline constexpr int kDefaultClientMaxQueuedRequests = 10000;
inline constexpr int kDefaultClientMaxQueuedReplies = 10000;
inline constexpr int kDefaultClientReconnectIntervalMs = 100;
inline constexpr int kDefaultClientReconnectIntervalMaxMs = 2000;
// -1: no bound on reply size (replies come from the server we chose).
inline constexpr int64_t kUnboundedReplyBytes = -1;

struct ClientConnectionOptions {
  std::string endpoint;  // parse_endpoint(kConnect) syntax
  int max_queued_requests = kDefaultClientMaxQueuedRequests;  // ZMQ_SNDHWM
  // ZMQ_RCVHWM: replies not yet read; past it the server's sends to this
  // connection say kBackpressure.
  int max_queued_replies = kDefaultClientMaxQueuedReplies;
  int64_t max_reply_bytes = kUnboundedReplyBytes;
  int reconnect_interval_ms = kDefaultClientReconnectIntervalMs;
  int reconnect_interval_max_ms = kDefaultClientReconnectIntervalMaxMs;
  std::optional<CurveClientKeys> curve;
};

class ClientConnection {
 public:
  static Result<std::unique_ptr<ClientConnection>> create(zmq::context_t& context,
                                                          const ClientConnectionOptions& options);
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

  // Never blocks: kSent or kBackpressure (never kGone: a DEALER reconnects).
  ClientSendResult send(std::string_view bytes);
  // Never blocks.
  std::optional<std::string> try_receive();
  // Waits up to `timeout` for a reply: kUnavailable when it passes.
  Result<std::string> receive(std::chrono::milliseconds timeout);

  zmq::socket_ref socket() { return dealer_; }

 private:
  explicit ClientConnection(zmq::context_t& context);

  zmq::socket_t dealer_;
  Endpoint endpoint_;
};

}  // namespace corral::net
