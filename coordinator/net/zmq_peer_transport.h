// The peer wire over ZeroMQ (PeerWire::kZmq; the one CURVE needs): one inbound ROUTER bound on the member's
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

#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "coordinator/net/peer_link.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/net/socket_options.h"

namespace corral::net {

inline constexpr size_t kPeerRoutingIdBytes = 9;
inline constexpr size_t kPeerRoutingIdWithClusterBytes = 17;
inline constexpr char kPeerRoutingIdTag = 'N';

class ZmqPeerTransport final : public PeerTransport {
 public:
  // Binds the ROUTER. kBadRequest for bad options, kUnavailable if the
  // endpoint cannot be bound.
  static Result<std::unique_ptr<ZmqPeerTransport>> create(zmq::context_t& context,
                                                          const PeerTransportOptions& options);
  ~ZmqPeerTransport() override;
  ZmqPeerTransport(const ZmqPeerTransport&) = delete;
  ZmqPeerTransport& operator=(const ZmqPeerTransport&) = delete;

  Status add_peer(PeerId id, std::string_view endpoint,
                  std::optional<std::string> curve_public_key = std::nullopt) override;
  Status remove_peer(PeerId id) override;
  bool has_peer(PeerId id) const override { return peers_.count(id) != 0; }
  std::vector<PeerId> peer_ids() const override { return ids_of(peers_); }
  // As far as the connection events received so far tell (drains them).
  bool connected(PeerId id) override;
  // Drains the events, unless receive() did since the last call.
  std::vector<PeerId> take_lost_connections() override;

  PeerSendResult send(PeerId to, std::string_view bytes) override;
  // Without a copy: ZeroMQ takes the bytes, and lowers `queued` when its
  // I/O thread has written them.
  PeerSendResult send_counted(PeerId to, std::string& bytes, const PeerQueuedBytes& queued) override;

  size_t receive(size_t max_messages, std::vector<PeerMessage>& out) override;
  // Whether the last receive() ended on an empty inbound socket. Nothing
  // else uses that socket here, so until its ZMQ_FD signals it holds no
  // message.
  bool inbound_drained() const override { return inbound_drained_; }
  size_t watch_with(Poller& poller) override;

  // The socket that becomes readable when messages arrive.
  zmq::socket_ref inbound_socket() { return router_; }

 private:
  struct Peer;
  ZmqPeerTransport(zmq::context_t& context, const PeerTransportOptions& options);
  void drain_events(Peer& peer);
  void drain_all_events();
  // Marks the peers whose monitor's ZMQ_FD signalled (one poll(2) for all,
  // instead of a receive, a getpid(2) and a poll(2) inside libzmq, per peer).
  void look_at_monitors();

  zmq::context_t& context_;
  zmq::socket_t router_;
  std::map<PeerId, std::unique_ptr<Peer>> peers_;
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
