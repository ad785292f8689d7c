// A member's links to its peers: one inbound ROUTER bound on the member's
// peer endpoint, one outbound DEALER per peer. Messages are opaque bytes; the
// server encodes and decodes them. Not thread-safe: one thread (the node
// loop) uses a PeerTransport, and polls inbound_socket() with a Poller.
//
// Identity. Each outbound DEALER sets its ZeroMQ routing id to the sender's
// node id, so the receiving ROUTER learns who sent a message from the
// connection itself, at no cost per message and with no frame to parse:
//   routing id = 'N' (0x4E) followed by the node id as 8 bytes big-endian.
// The tag byte keeps ids clear of ZeroMQ's own generated ids, which start
// with a zero byte. Once the member knows its cluster id (set_cluster_id),
// the id carries it too, again at no cost per message:
//   'N', node id (8 bytes big-endian), cluster id (8 bytes big-endian)
// so that every message says which cluster its sender belongs to
// (PeerMessage::cluster_id; 0 for the short form, which a joiner's
// provisional endpoint uses before it knows the cluster). A message is exactly one frame of payload after it; any
// other shape, or a connection without such an id, is dropped and counted.
// The ROUTER sets ZMQ_ROUTER_HANDOVER so that a restarted peer (same id, new
// connection) takes over at once instead of being refused as a duplicate.
// The id is a claim, not a proof: CURVE keys (socket_options.h) keep
// outsiders off the link, and PeerMessage::user says whose key it was; the
// server binds the two (server/peer_identity_gate.h).
//
// Delivery. send() never blocks (ZMQ_DONTWAIT) and is at most once:
//  - ZMQ_IMMEDIATE: messages are queued only on a completed connection. For
//    raft a message that cannot leave now is better dropped and reported
//    (RawNode::report_unreachable moves the follower to probe; raft resends)
//    than queued for minutes and delivered stale after a partition heals.
//  - ZMQ_SNDHWM = max_queued_messages_per_peer bounds memory per peer; past
//    it send() says kBackpressure.
//  - ZMQ_RECONNECT_IVL/_MAX: ZeroMQ reconnects in the background with
//    exponential backoff; ZMTP heartbeats (ZMQ_HEARTBEAT_IVL/_TIMEOUT) drop a
//    half-open connection to a dead or partitioned host, so its messages stop
//    queueing and sends report kUnreachable.
//  - ZMQ_LINGER 0: shutdown and remove_peer() are prompt; queued messages
//    are discarded (raft does not rely on them).
//  - ZMQ_MAXMSGSIZE on the ROUTER: a peer that sends more than
//    max_message_bytes in one message is disconnected by ZeroMQ. Snapshots
//    therefore travel in chunks (chunker.h) well below that bound.
// Connection state per peer comes from a socket monitor (handshake succeeded
// / disconnected / connect retried) drained on every receive() (only the
// monitors whose ZMQ_FD signalled) and on every failed send(), and from the
// socket taking a message (the monitor can lag it: peer_link.h), so
// that a failed send can say kUnreachable (no connection) or kBackpressure
// (connected, queue at its bound). The state is as fresh as the last drain.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/peer_link.h"
#include "coordinator/net/socket_options.h"

namespace corral::net {

using PeerId = uint64_t;  // the raft node id; 0 is "none" and never valid
// Bytes handed to ZeroMQ and not yet written to the socket (send_counted).
using PeerQueuedBytes = std::shared_ptr<std::atomic<int64_t>>;
inline constexpr size_t kPeerRoutingIdBytes = 9;
inline constexpr size_t kPeerRoutingIdWithClusterBytes = 17;
inline constexpr char kPeerRoutingIdTag = 'N';

inline constexpr int kDefaultMaxQueuedMessagesPerPeer = 4096;
inline constexpr int kDefaultMaxInboundQueuedMessagesPerPeer = 4096;
inline constexpr int64_t kDefaultMaxPeerMessageBytes = 64LL << 20;
inline constexpr int kDefaultReconnectIntervalMs = 100;
inline constexpr int kDefaultReconnectIntervalMaxMs = 2000;
inline constexpr int kDefaultHeartbeatIntervalMs = 1000;
inline constexpr int kDefaultHeartbeatTimeoutMs = 3000;

struct PeerTransportOptions {
  PeerId self_id = 0;
  std::string bind_endpoint;  // parse_endpoint(kBind) syntax; port 0 is fine
  int max_queued_messages_per_peer = kDefaultMaxQueuedMessagesPerPeer;           // SNDHWM
  int max_inbound_queued_messages_per_peer = kDefaultMaxInboundQueuedMessagesPerPeer;  // RCVHWM
  int64_t max_message_bytes = kDefaultMaxPeerMessageBytes;  // MAXMSGSIZE inbound
  int reconnect_interval_ms = kDefaultReconnectIntervalMs;
  int reconnect_interval_max_ms = kDefaultReconnectIntervalMaxMs;
  int heartbeat_interval_ms = kDefaultHeartbeatIntervalMs;
  int heartbeat_timeout_ms = kDefaultHeartbeatTimeoutMs;
  // Set: the ROUTER is a CURVE server and every DEALER a CURVE client with
  // these keys; add_peer() then needs the peer's public key.
  std::optional<CurveKeyPair> curve;
};

enum class PeerSendResult : uint8_t {
  kSent,          // handed to ZeroMQ; a message taken just as the
                  // connection drops is lost (delivery is at most once)
  kUnknownPeer,   // no such peer was added
  kUnreachable,   // no live connection to the peer
  kBackpressure,  // connected, but max_queued_messages_per_peer are waiting
};
const char* peer_send_result_name(PeerSendResult result);

struct PeerMessage {
  PeerId from = 0;
  std::string bytes;
  uint64_t cluster_id = 0;  // the sender's claim; 0: it did not say
  // The connection's ZAP User-Id (the member name its CURVE key is listed
  // under); empty without CURVE. Unlike `from`, a proof.
  std::string user;
};

struct PeerTransportStats {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t dropped_malformed = 0;  // wrong routing id or frame shape
};

class PeerTransport {
 public:
  // Binds the ROUTER. kBadRequest for bad options, kUnavailable if the
  // endpoint cannot be bound.
  static Result<std::unique_ptr<PeerTransport>> create(zmq::context_t& context,
                                                       const PeerTransportOptions& options);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  PeerId self_id() const { return options_.self_id; }
  // Peers added after this carry the cluster id in their routing id.
  void set_cluster_id(uint64_t cluster_id) { cluster_id_ = cluster_id; }
  // The endpoint really bound (port 0 resolved), to advertise to peers.
  const Endpoint& bound_endpoint() const { return bound_; }

  // Membership changes. add_peer: kBadRequest for id 0, our own id, an id
  // already added, a bad endpoint or a missing/bad CURVE key.
  // remove_peer: kNotFound if absent; drops its queued messages.
  Status add_peer(PeerId id, std::string_view endpoint,
                  std::optional<std::string> curve_public_key = std::nullopt);
  Status remove_peer(PeerId id);
  bool has_peer(PeerId id) const { return peers_.count(id) != 0; }
  std::vector<PeerId> peer_ids() const;
  // Whether a connection to the peer is up, as far as the connection events
  // received so far tell (drains them).
  bool connected(PeerId id);
  // Peers whose established connection dropped since the last call, each
  // once (drains the events, unless receive() did since the last call): a
  // member that crashed closes its sockets at once, long before an
  // election timeout would tell.
  std::vector<PeerId> take_lost_connections();

  PeerSendResult send(PeerId to, std::string_view bytes);
  // As send, without a copy, counting the message's bytes in `queued` until
  // ZeroMQ has written them out: a large stream (a snapshot) paces itself
  // on it instead of filling the peer's queue ahead of its heartbeats.
  // `bytes` is consumed only when the result is kSent.
  PeerSendResult send_counted(PeerId to, std::string& bytes, const PeerQueuedBytes& queued);

  // Appends up to max_messages received messages to `out`; returns how many.
  // Never blocks. Also drains connection events.
  size_t receive(size_t max_messages, std::vector<PeerMessage>& out);
  // Whether the last receive() ended on an empty inbound socket. Nothing
  // else uses that socket here, so until its ZMQ_FD signals it holds no
  // message (Poller's Tracking::kOwnerReportsUse).
  bool inbound_drained() const { return inbound_drained_; }

  // The socket that becomes readable when messages arrive (for a Poller).
  zmq::socket_ref inbound_socket() { return router_; }
  const PeerTransportStats& stats() const { return stats_; }

 private:
  struct Peer;
  PeerTransport(zmq::context_t& context, const PeerTransportOptions& options);
  void drain_events(Peer& peer);
  void drain_all_events();
  // Marks the peers whose monitor's ZMQ_FD signalled (one poll(2) for all,
  // instead of a receive, a getpid(2) and a poll(2) inside libzmq, per peer).
  void look_at_monitors();

  zmq::context_t& context_;
  PeerTransportOptions options_;
  zmq::socket_t router_;
  Endpoint bound_;
  std::map<PeerId, std::unique_ptr<Peer>> peers_;
  PeerTransportStats stats_;
  uint64_t cluster_id_ = 0;
  bool inbound_drained_ = false;
  bool events_just_drained_ = false;  // by receive(), since take_lost_connections
  std::vector<pollfd> monitor_fds_;  // look_at_monitors' scratch
  std::vector<Peer*> monitor_peers_;  // whose fd each of monitor_fds_ is
};

// The routing id a member with this node id uses (format above); with a
// cluster id of 0 the short form.
std::string peer_routing_id(PeerId id, uint64_t cluster_id = 0);
// The node id in a routing id, or 0 if it is not one of ours; `cluster_id`
// (when given) gets the cluster id in it, 0 for the short form.
PeerId parse_peer_routing_id(std::string_view routing_id, uint64_t* cluster_id = nullptr);

}  // namespace corral::net
