// The client side of a client connection to one endpoint. Requests are one
// frame each; many may be in flight (the api layer matches replies by
// request id). Not thread-safe.
//
// Two wires implement it, matching the listener's (client_listener.h):
//  - tcp_client_connection.h: plain TCP driven by the owner's thread; the
//    default without CURVE.
//  - zmq_client_connection.h: a ZeroMQ DEALER; the one CURVE needs.
// Both ends must speak the same wire.
//
// Unlike peer links, a client queues requests while (re)connecting: a
// user's first request should not fail because the TCP handshake has not
// finished. The queue is bounded by max_queued_requests; past it send()
// says kBackpressure. A broken connection is made again, after
// reconnect_interval_ms doubling up to reconnect_interval_max_ms.
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
// Liveness on the TCP wire (ZMTP heartbeats on the ZeroMQ one): a
// heartbeat every interval, the connection dropped when nothing came for
// the timeout; the member closes a connection silent for its own timeout.
inline constexpr int kDefaultClientHeartbeatIntervalMs = 1000;
inline constexpr int kDefaultClientHeartbeatTimeoutMs = 3000;
// -1: no bound on reply size (replies come from the server we chose).
inline constexpr int64_t kUnboundedReplyBytes = -1;

struct ClientConnectionOptions {
  ClientWire wire = ClientWire::kAuto;  // kAuto: ZeroMQ with CURVE, else TCP
  std::string endpoint;  // parse_endpoint(kConnect) syntax
  int max_queued_requests = kDefaultClientMaxQueuedRequests;  // ZMQ_SNDHWM
  // Replies read and not yet taken (ZMQ_RCVHWM); past it the server's sends
  // to this connection are held back.
  int max_queued_replies = kDefaultClientMaxQueuedReplies;
  int64_t max_reply_bytes = kUnboundedReplyBytes;
  int reconnect_interval_ms = kDefaultClientReconnectIntervalMs;
  int reconnect_interval_max_ms = kDefaultClientReconnectIntervalMaxMs;
  int heartbeat_interval_ms = kDefaultClientHeartbeatIntervalMs;
  int heartbeat_timeout_ms = kDefaultClientHeartbeatTimeoutMs;
  std::optional<CurveClientKeys> curve;  // ZeroMQ wire only
};

class ClientConnection {
 public:
  // Starts connecting (in the background) with the wire options.wire names.
  static Result<std::unique_ptr<ClientConnection>> create(zmq::context_t& context,
                                                          const ClientConnectionOptions& options);
  virtual ~ClientConnection() = default;
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  ClientWire wire() const { return wire_; }
  const Endpoint& endpoint() const { return endpoint_; }

  // Never blocks: kSent or kBackpressure (never kGone: it reconnects).
  virtual ClientSendResult send(std::string_view bytes) = 0;
  // Never blocks.
  virtual std::optional<std::string> try_receive() = 0;
  // Waits up to `timeout` for a reply: kUnavailable when it passes.
  virtual Result<std::string> receive(std::chrono::milliseconds timeout) = 0;

 protected:
  explicit ClientConnection(ClientWire wire) : wire_(wire) {}
  // kBadRequest for options no wire accepts.
  static Status check_options(const ClientConnectionOptions& options);

  ClientWire wire_;
  Endpoint endpoint_;
};

}  // namespace corral::net
