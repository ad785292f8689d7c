// A member's links to its peers, as the node loop uses them: messages are
// opaque bytes sent to and received from members named by their raft node
// id. Not thread-safe: one thread (the node loop) owns a PeerTransport and
// sleeps in a Poller that watch_with() registered it with.
//
// Two wires implement it (PeerWire):
//  - tcp_peer_transport.h: length-prefixed frames on plain TCP sockets that
//    the owner's thread reads and writes itself; the default without CURVE.
//  - zmq_peer_transport.h: ZeroMQ, DEALERs out and a ROUTER in; the one
//    CURVE (authentication and encryption) needs.
// Both members of a link must speak the same wire: a cluster moves from
// one to the other by restarting every member with the new --peer-wire.
//
// Delivery is at most once and send() never blocks:
//  - a message to a peer with no live connection is refused (kUnreachable),
//    not queued: raft moves the follower to probe and resends, instead of a
//    stale message arriving minutes later after a partition heals;
//  - messages queued per peer are bounded (kBackpressure past the bound);
//  - a connection silent for heartbeat_timeout_ms is dropped, so a dead or
//    partitioned host stops taking messages;
//  - a message bigger than max_message_bytes is never delivered (the
//    receiver drops the connection); snapshots travel in chunks (chunker.h).
#pragma once

#include <atomic>
#include <chrono>
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

using PeerId = uint64_t;  // the raft node id; 0 is "none" and never valid
// Bytes handed to the transport and not yet written to the socket (send_counted).
using PeerQueuedBytes = std::shared_ptr<std::atomic<int64_t>>;

inline constexpr int kDefaultMaxQueuedMessagesPerPeer = 4096;
inline constexpr int kDefaultMaxInboundQueuedMessagesPerPeer = 4096;
inline constexpr int64_t kDefaultMaxPeerMessageBytes = 64LL << 20;
inline constexpr int kDefaultReconnectIntervalMs = 100;
inline constexpr int kDefaultReconnectIntervalMaxMs = 2000;
inline constexpr int kDefaultHeartbeatIntervalMs = 1000;
inline constexpr int kDefaultHeartbeatTimeoutMs = 3000;

enum class PeerWire : uint8_t {
  kAuto,  // TCP, or ZeroMQ when CURVE is asked for
  kTcp,
  kZmq,
};
// "auto", "tcp", "zmq"; kBadRequest otherwise.
Result<PeerWire> parse_peer_wire(std::string_view text);
const char* peer_wire_name(PeerWire wire);

struct PeerTransportOptions {
  PeerId self_id = 0;
  PeerWire wire = PeerWire::kAuto;
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
  kSent,          // written or queued; a message taken just as the
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
  uint64_t wire_troubles_dropped = 0;  // past kMaxWireTroubles, not kept
};

// A connection on which the other side speaks another peer wire than this
// transport's (a member started with another --peer-wire, or with CURVE on
// one side only, which makes auto pick zmq), or that the peer ends before
// every handshake. Without it a member on the wrong wire is cut off with no
// word in any log.
struct PeerWireTrouble {
  PeerId peer = 0;     // the peer our link goes to; 0: a connection opened to us
  std::string remote;  // that connection's address (peer 0)
  std::string what;    // what was seen, as a phrase ("answers in ZeroMQ")
  // The same wire, in a version of its hello this member does not speak
  // (another corral version), rather than the other wire.
  bool other_version = false;
};
// Troubles kept until taken; a flood of bad connections is counted past it.
inline constexpr size_t kMaxWireTroubles = 16;

class Poller;

class PeerTransport {
 public:
  // Binds the inbound listener on options.bind_endpoint with the wire
  // options.wire names. kBadRequest for bad options (CURVE on the TCP
  // wire among them), kUnavailable if the endpoint cannot be bound.
  static Result<std::unique_ptr<PeerTransport>> create(zmq::context_t& context,
                                                       const PeerTransportOptions& options);
  virtual ~PeerTransport() = default;

  PeerWire wire() const { return wire_; }
  PeerId self_id() const { return options_.self_id; }
  // Peers added after this carry the cluster id in what they announce.
  void set_cluster_id(uint64_t cluster_id) { cluster_id_ = cluster_id; }
  // The endpoint really bound (port 0 resolved), to advertise to peers.
  const Endpoint& bound_endpoint() const { return bound_; }

  // Membership changes. add_peer: kBadRequest for id 0, our own id, an id
  // already added, a bad endpoint or a missing/bad CURVE key.
  // remove_peer: kNotFound if absent; drops its queued messages.
  virtual Status add_peer(PeerId id, std::string_view endpoint,
                          std::optional<std::string> curve_public_key = std::nullopt) = 0;
  virtual Status remove_peer(PeerId id) = 0;
  virtual bool has_peer(PeerId id) const = 0;
  virtual std::vector<PeerId> peer_ids() const = 0;
  // Whether a connection to the peer is up, as far as this transport knows.
  virtual bool connected(PeerId id) = 0;
  // Peers whose established connection dropped since the last call, each
  // once: a member that crashed closes its sockets at once, long before an
  // election timeout would tell.
  virtual std::vector<PeerId> take_lost_connections() = 0;

  virtual PeerSendResult send(PeerId to, std::string_view bytes) = 0;
  // As send, counting the message's bytes in `queued` until they are
  // written out: a large stream (a snapshot) paces itself on it instead of
  // filling the peer's queue ahead of its heartbeats. `bytes` is consumed
  // only when the result is kSent.
  virtual PeerSendResult send_counted(PeerId to, std::string& bytes, const PeerQueuedBytes& queued) = 0;

  // Appends up to max_messages received messages to `out`; returns how
  // many. Never blocks. Also does the connection work that is due (accepts,
  // writes held back by a full socket, connection events).
  virtual size_t receive(size_t max_messages, std::vector<PeerMessage>& out) = 0;
  // Whether the last receive() left nothing it could deliver without new
  // input: until the Poller says so, receive() has nothing (Poller's
  // Tracking::kOwnerReportsUse).
  virtual bool inbound_drained() const = 0;
  // Adds what announces inbound work to `poller` (with
  // Tracking::kOwnerReportsUse); returns its slot.
  virtual size_t watch_with(Poller& poller) = 0;
  // Timed connection work: reconnects, heartbeats, dropping silent
  // connections. Call at least every heartbeat interval / 4.
  virtual void maintain(std::chrono::steady_clock::time_point /*now*/) {}

  const PeerTransportStats& stats() const { return stats_; }
  // Troubles seen since the last call (PeerWireTrouble), oldest first.
  std::vector<PeerWireTrouble> take_wire_troubles() {
    std::vector<PeerWireTrouble> out;
    out.swap(wire_troubles_);
    return out;
  }

 protected:
  PeerTransport(PeerWire wire, const PeerTransportOptions& options) : wire_(wire), options_(options) {}
  // kBadRequest for options no wire accepts.
  static Status check_options(const PeerTransportOptions& options);
  // add_peer's checks both wires make: the id (not 0, not ours, not
  // `known` already) and the endpoint, which it returns parsed.
  Result<Endpoint> check_new_peer(PeerId id, bool known, std::string_view endpoint) const;
  void note_wire_trouble(PeerWireTrouble trouble) {
    if (wire_troubles_.size() >= kMaxWireTroubles) {
      ++stats_.wire_troubles_dropped;
      return;
    }
    wire_troubles_.push_back(std::move(trouble));
  }
  // The keys of a wire's peer map.
  template <class PeerMap>
  static std::vector<PeerId> ids_of(const PeerMap& peers) {
    std::vector<PeerId> ids;
    ids.reserve(peers.size());
    for (const auto& [id, peer] : peers) ids.push_back(id);
    return ids;
  }

  PeerWire wire_;
  PeerTransportOptions options_;
  Endpoint bound_;
  uint64_t cluster_id_ = 0;
  PeerTransportStats stats_;
  std::vector<PeerWireTrouble> wire_troubles_;
};

}  // namespace corral::net
