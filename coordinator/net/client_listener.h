// The client-facing socket: a ROUTER bound on the client endpoint. Clients
// are DEALERs (client_connection.h) that send one frame per request; replies
// and watch events go back on the same connection, routed by the ROUTER's
// routing id for it. Not thread-safe: one thread uses a ClientListener.
//
// Bounds and what happens past them:
//  - max_request_bytes (ZMQ_MAXMSGSIZE): ZeroMQ disconnects a client that
//    sends a bigger message; it never reaches us and no reply is possible
//    (ZMTP has no way to refuse one message and keep the stream). So it is
//    set far above the api layer's typed limit (kTooLarge): ZeroMQ holds a
//    message whole before we see it, and this is the most one connection
//    can make it hold for one message.
//  - max_kept_request_bytes: of a bigger message only the first
//    kKeptPrefixBytes are copied out (enough to read its request id and
//    answer tooLarge); ClientRequest::wire_bytes says how big it was.
//  - receive's max_bytes: bytes copied out per call, so that one call (one
//    loop turn) cannot take in max_requests huge messages at once.
//  - max_queued_replies_per_connection (ZMQ_SNDHWM): ZeroMQ has no per-
//    connection queue of its own we can size, but each connection's pipe is
//    bounded by SNDHWM; with ZMQ_ROUTER_MANDATORY a send to a full pipe says
//    kBackpressure and a send to a connection that is gone says kGone,
//    instead of ZeroMQ dropping the message silently. SNDHWM counts
//    messages, not bytes, so a caller that must bound bytes (watch events
//    for a connection that does not read) sends through send_counted: the
//    connection's QueuedBytes says how many of its bytes ZeroMQ still holds,
//    and the caller stops feeding it past its own budget; queued_bytes_total
//    sums them over every connection. A kBackpressure
//    reply is the caller's to keep and retry (server/connection_output.cc keeps it in
//    order with the connection's later output).
//  - max_queued_requests_per_connection (ZMQ_RCVHWM): a client that sends
//    faster than we read is held back by TCP.
// Learning that a connection went away: libzmq here is built without the
// draft ZMQ_ROUTER_NOTIFY option, and a socket monitor's DISCONNECTED event
// names a file descriptor, not a routing id. So a vanished connection is
// learned when a send to it says kGone; the api layer sends periodic watch
// progress notifications, which bounds how long a dead connection's watches
// live.
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/socket_options.h"

namespace corral::net {

inline constexpr int64_t kDefaultMaxRequestBytes = 8LL << 20;
inline constexpr int kDefaultMaxQueuedRepliesPerConnection = 10000;
inline constexpr int kDefaultMaxQueuedRequestsPerConnection = 10000;
inline constexpr size_t kUnboundedKeptRequestBytes = SIZE_MAX;
// What is kept of a message past max_kept_request_bytes: its head, where a
// Cap'n Proto request has its segment table, root pointer and id.
inline constexpr size_t kKeptPrefixBytes = 4096;

struct ClientListenerOptions {
  std::string bind_endpoint;  // parse_endpoint(kBind) syntax
  int64_t max_request_bytes = kDefaultMaxRequestBytes;
  size_t max_kept_request_bytes = kUnboundedKeptRequestBytes;
  // Deliver a message of several payload frames as a ClientRequest marked
  // multipart (its first frame as payload) so that the caller can answer
  // it; otherwise it is dropped and counted in stats().dropped_malformed.
  bool deliver_multipart = false;
  int max_queued_replies_per_connection = kDefaultMaxQueuedRepliesPerConnection;
  int max_queued_requests_per_connection = kDefaultMaxQueuedRequestsPerConnection;
  // Set: CURVE server; its zap_domain is kClientZapDomain unless given.
  std::optional<CurveServerKeys> curve;
};

// A client connection as the ROUTER names it (opaque bytes made by ZeroMQ).
struct ConnectionId {
  std::string routing_id;
  auto operator<=>(const ConnectionId&) const = default;
};

struct ClientRequest {
  ConnectionId connection;
  std::string payload;
  size_t wire_bytes = 0;   // the message as sent: payload.size() unless cut (see above)
  bool multipart = false;  // sent as several frames; payload is the first
  // Who the ZAP handler said the connection is (its "User-Id" property);
  // empty without CURVE/ZAP.
  std::string user;
  bool cut() const { return wire_bytes != payload.size(); }
};

enum class ClientSendResult : uint8_t {
  kSent,
  kBackpressure,  // the connection's reply queue is at its bound
  kGone,          // the connection no longer exists
};
const char* client_send_result_name(ClientSendResult result);

// Bytes of one connection's messages that ZeroMQ holds (its pipe and its
// encoder): raised by send_counted, lowered by ZeroMQ's I/O thread when it
// releases a message (written to the kernel, or dropped with a vanished
// connection). Hence atomic; shared so a message outliving its connection's
// entry in the caller still has a counter to lower.
using QueuedBytes = std::shared_ptr<std::atomic<int64_t>>;

struct ClientListenerStats {
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t dropped_malformed = 0;  // not exactly one payload frame, and not delivered
};

class ClientListener {
 public:
  static Result<std::unique_ptr<ClientListener>> create(zmq::context_t& context,
                                                        const ClientListenerOptions& options);
  ClientListener(const ClientListener&) = delete;
  ClientListener& operator=(const ClientListener&) = delete;

  const Endpoint& bound_endpoint() const { return bound_; }

  // Appends up to max_requests requests to `out`, and stops once the
  // payloads taken pass max_bytes (one request is always taken); returns
  // how many. Never blocks.
  size_t receive(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out);
  size_t receive(size_t max_requests, std::vector<ClientRequest>& out) {
    return receive(max_requests, SIZE_MAX, out);
  }
  // Never blocks.
  ClientSendResult send(const ConnectionId& connection, std::string_view bytes);
  // Like send, without a copy: ZeroMQ takes `bytes` (only when kSent;
  // otherwise they are left in `bytes`), and `queued` counts them until
  // ZeroMQ releases them.
  ClientSendResult send_counted(const ConnectionId& connection, std::string& bytes,
                                const QueuedBytes& queued);

  // Bytes of every connection's send_counted messages that ZeroMQ holds.
  int64_t queued_bytes_total() const { return queued_total_->load(std::memory_order_relaxed); }

  zmq::socket_ref socket() { return router_; }
  const ClientListenerStats& stats() const { return stats_; }
  // Whether the last call on the socket was a receive that found it empty:
  // then, until its ZMQ_FD signals, it holds no request (a send may take
  // the fd's signal of a request that came meanwhile). For a Poller's
  // Tracking::kOwnerReportsUse.
  bool drained() const { return drained_; }

 private:
  explicit ClientListener(zmq::context_t& context);

  zmq::socket_t router_;
  Endpoint bound_;
  size_t max_kept_request_bytes_ = kUnboundedKeptRequestBytes;
  bool deliver_multipart_ = false;
  // Lowered by ZeroMQ's I/O thread, possibly after this listener is gone.
  QueuedBytes queued_total_ = std::make_shared<std::atomic<int64_t>>(0);
  ClientListenerStats stats_;
  bool drained_ = false;
};

}  // namespace corral::net
