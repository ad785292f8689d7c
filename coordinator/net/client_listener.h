// The client-facing listener: clients send one frame per request; replies
// and watch events go back on the same connection, named by a ConnectionId.
// Not thread-safe: one thread uses a ClientListener (the node loop, which
// sleeps in a Poller that watch_with() registered the listener with).
//
// Two wires implement it (ClientWire):
//  - tcp_client_listener.h: length-prefixed frames (frame_stream.h) on plain
//    TCP connections that the owner's thread accepts, reads and writes
//    itself; the default without CURVE.
//  - zmq_client_listener.h: a ZeroMQ ROUTER; the one CURVE needs.
// Both ends of a connection must speak the same wire (client_connection.h).
//
// Bounds and what happens past them (each wire's header says how it holds them):
//  - max_request_bytes: a connection that sends a bigger request is dropped
//    (no reply is possible). So it is set far above the api layer's typed
//    limit (kTooLarge); it is the most one connection can make the member
//    hold for one request.
//  - max_kept_request_bytes: of a bigger request only the first
//    kKeptPrefixBytes are copied out (enough to read its request id and
//    answer tooLarge); ClientRequest::wire_bytes says how big it was.
//  - receive's max_bytes: bytes copied out per call, so that one call (one
//    loop turn) cannot take in max_requests huge requests at once.
//  - max_queued_replies_per_connection: replies held for one connection; a
//    send past it says kBackpressure (the caller keeps the reply and
//    retries: server/connection_output.cc keeps it in order with the
//    connection's later output); a send to a connection that is gone says
//    kGone. A caller that must bound bytes (watch events for a connection
//    that does not read) sends through send_counted: the connection's
//    QueuedBytes says how many of its bytes are still unwritten, and the
//    caller stops feeding it past its own budget; queued_bytes_total sums
//    them over every connection.
//  - max_queued_requests_per_connection: requests read and not yet taken;
//    a client that sends faster than we read is held back by TCP.
#pragma once

#include <atomic>
#include <chrono>
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
#include "coordinator/net/client_wire.h"
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
inline constexpr size_t kDefaultMaxClientConnections = 16384;
inline constexpr int64_t kDefaultMaxQueuedReplyBytesPerConnection = 64LL << 20;
// TCP wire: a connection that sent nothing this long (a client heartbeats
// every second) is closed: its host vanished or its link is cut, and it
// would otherwise hold a connection slot and its watches for good.
inline constexpr int kDefaultClientSilenceTimeoutMs = 10'000;

// "auto", "tcp", "zmq" (client_wire.h); kBadRequest otherwise.
Result<ClientWire> parse_client_wire(std::string_view text);

struct ClientListenerOptions {
  ClientWire wire = ClientWire::kAuto;
  std::string bind_endpoint;  // parse_endpoint(kBind) syntax
  int64_t max_request_bytes = kDefaultMaxRequestBytes;
  size_t max_kept_request_bytes = kUnboundedKeptRequestBytes;
  // Deliver a message of several payload frames as a ClientRequest marked
  // multipart (its first frame as payload) so that the caller can answer
  // it; otherwise it is dropped and counted in stats().dropped_malformed.
  bool deliver_multipart = false;
  int max_queued_replies_per_connection = kDefaultMaxQueuedRepliesPerConnection;
  int max_queued_requests_per_connection = kDefaultMaxQueuedRequestsPerConnection;
  // TCP wire only: reply bytes held for one connection (past it kBackpressure),
  // and connections open at once (past it a new one is closed at once).
  int64_t max_queued_reply_bytes_per_connection = kDefaultMaxQueuedReplyBytesPerConnection;
  size_t max_connections = kDefaultMaxClientConnections;
  int silence_timeout_ms = kDefaultClientSilenceTimeoutMs;  // TCP wire only
  // Set: CURVE server (ZeroMQ wire only); its zap_domain is kClientZapDomain unless given.
  std::optional<CurveServerKeys> curve;
};

// A client connection as the listener names it: opaque bytes (the ROUTER's
// routing id; on TCP the connection's serial, never reused).
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
  // empty without CURVE/ZAP (always on TCP).
  std::string user;
  bool cut() const { return wire_bytes != payload.size(); }
};

enum class ClientSendResult : uint8_t {
  kSent,
  kBackpressure,  // the connection's reply queue is at its bound
  kGone,          // the connection no longer exists
};
const char* client_send_result_name(ClientSendResult result);

// Bytes of one connection's replies not yet written to the kernel: raised by
// send_counted, lowered when a reply is written (or dropped with a vanished
// connection); on the ZeroMQ wire by its I/O thread, hence atomic. Shared so
// a message outliving its connection's entry in the caller still has a
// counter to lower.
using QueuedBytes = std::shared_ptr<std::atomic<int64_t>>;

struct ClientListenerStats {
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t dropped_malformed = 0;  // not exactly one payload frame, and not delivered
  uint64_t closed_silent = 0;      // TCP wire: closed after silence_timeout_ms
};

class Poller;

class ClientListener {
 public:
  // Binds options.bind_endpoint with the wire options.wire names (kAuto:
  // ZeroMQ with CURVE, else TCP). kBadRequest for bad options (CURVE on the
  // TCP wire among them), kUnavailable if the endpoint cannot be bound.
  static Result<std::unique_ptr<ClientListener>> create(zmq::context_t& context,
                                                        const ClientListenerOptions& options);
  virtual ~ClientListener() = default;
  ClientListener(const ClientListener&) = delete;
  ClientListener& operator=(const ClientListener&) = delete;

  ClientWire wire() const { return wire_; }
  const Endpoint& bound_endpoint() const { return bound_; }

  // Appends up to max_requests requests to `out`, and stops once the
  // payloads taken pass max_bytes (one request is always taken); returns
  // how many. Never blocks. On TCP also does the connection work that is
  // due (accepts, writes held back by a full socket, closes).
  virtual size_t receive(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out) = 0;
  size_t receive(size_t max_requests, std::vector<ClientRequest>& out) {
    return receive(max_requests, SIZE_MAX, out);
  }
  // Never blocks.
  virtual ClientSendResult send(const ConnectionId& connection, std::string_view bytes) = 0;
  // Like send, without a copy: the listener takes `bytes` (only when kSent;
  // otherwise they are left in `bytes`), and `queued` counts them until
  // they are written.
  virtual ClientSendResult send_counted(const ConnectionId& connection, std::string& bytes,
                                        const QueuedBytes& queued) = 0;

  // Between these, replies are queued rather than written (TCP wire; the
  // ZeroMQ wire's I/O thread batches on its own): a loop turn's replies to
  // one connection go out in one write when it lets go, instead of one
  // write each on the loop's thread.
  virtual void hold_writes() {}
  virtual void release_writes() {}
  // Timed work (the TCP wire: accepting again after running out of file
  // descriptors). Call every loop turn.
  virtual void maintain(std::chrono::steady_clock::time_point /*now*/) {}

  // Bytes of every connection's replies not yet written (the ZeroMQ wire
  // counts send_counted ones only).
  virtual int64_t queued_bytes_total() const = 0;

  const ClientListenerStats& stats() const { return stats_; }
  // Whether the last receive() left nothing it could deliver without new
  // input: then, until the Poller says so, receive() has nothing (for
  // Tracking::kOwnerReportsUse; a send on the ZeroMQ wire may take the
  // fd's signal of a request that came meanwhile, so it clears this).
  bool drained() const { return drained_; }
  // Adds what announces inbound work to `poller` (Tracking::kOwnerReportsUse);
  // returns its slot.
  virtual size_t watch_with(Poller& poller) = 0;

 protected:
  explicit ClientListener(ClientWire wire) : wire_(wire) {}
  // kBadRequest for options no wire accepts.
  static Status check_options(const ClientListenerOptions& options);

  ClientWire wire_;
  Endpoint bound_;
  ClientListenerStats stats_;
  bool drained_ = false;
};

}  // namespace corral::net
