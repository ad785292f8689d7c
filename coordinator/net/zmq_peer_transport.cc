#include "coordinator/net/zmq_peer_transport.h"

#include "coordinator/net/big_endian.h"
#include "coordinator/net/poller.h"

#include "coordinator/net/routed_receive.h"

#include <zmq.h>

#include <atomic>
#include <cstring>
#include <string>


namespace corral::net {
namespace {

// A monitor event is two frames: 6 bytes (uint16 event, uint32 value, host
// order) and the endpoint text.
constexpr size_t kMonitorEventHeaderBytes = 6;
// CONNECT_RETRIED: the queue of a dropped connection is detached (peer_link.h).
// HANDSHAKE_FAILED_*: a peer on another wire, or refusing us (PeerWireTrouble).
constexpr int kHandshakeFailedEvents =
    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
constexpr int kMonitoredEvents =
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED | kHandshakeFailedEvents;
std::atomic<uint64_t> next_monitor_serial{0};

Error bad(std::string what) { return make_error(ErrorCode::kBadRequest, std::move(what)); }

}  // namespace

struct ZmqPeerTransport::Peer {
  explicit Peer(zmq::context_t& context)
      : dealer(context, zmq::socket_type::dealer), monitor(context, zmq::socket_type::pair) {}
  ~Peer() {
    zmq_socket_monitor(dealer.handle(), nullptr, 0);
    monitor.close();
    dealer.close();
  }
  zmq::socket_t dealer;
  zmq::socket_t monitor;
  PeerId id = 0;
  Endpoint endpoint;
  PeerLink link;
  // The monitor may hold events its ZMQ_FD will not announce: it has not
  // been read down to EAGAIN since it was made or since its fd signalled.
  bool monitor_unread = true;
};


std::string peer_routing_id(PeerId id, uint64_t cluster_id) {
  std::string out(cluster_id == 0 ? kPeerRoutingIdBytes : kPeerRoutingIdWithClusterBytes, '\0');
  out[0] = kPeerRoutingIdTag;
  put_u64_be(out, 1, id);
  if (cluster_id != 0) put_u64_be(out, kPeerRoutingIdBytes, cluster_id);
  return out;
}

PeerId parse_peer_routing_id(std::string_view routing_id, uint64_t* cluster_id) {
  const bool short_form = routing_id.size() == kPeerRoutingIdBytes;
  if (!short_form && routing_id.size() != kPeerRoutingIdWithClusterBytes) return 0;
  if (routing_id[0] != kPeerRoutingIdTag) return 0;
  if (cluster_id) *cluster_id = short_form ? 0 : get_u64_be(routing_id, kPeerRoutingIdBytes);
  return get_u64_be(routing_id, 1);
}

ZmqPeerTransport::ZmqPeerTransport(zmq::context_t& context, const PeerTransportOptions& options)
    : PeerTransport(PeerWire::kZmq, options), context_(context), router_(context, zmq::socket_type::router) {}

ZmqPeerTransport::~ZmqPeerTransport() {
  peers_.clear();
  router_.close();
}

Result<std::unique_ptr<ZmqPeerTransport>> ZmqPeerTransport::create(
    zmq::context_t& context, const PeerTransportOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.error();
  Result<Endpoint> endpoint = parse_endpoint(options.bind_endpoint, EndpointUse::kBind);
  if (!endpoint.ok()) return endpoint.error();

  std::unique_ptr<ZmqPeerTransport> t(new ZmqPeerTransport(context, options));
  set_common_options(t->router_);
  t->router_.set(zmq::sockopt::router_handover, true);
  t->router_.set(zmq::sockopt::rcvhwm, options.max_inbound_queued_messages_per_peer);
  t->router_.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  if (options.curve) {
    if (Status s = set_curve_server(t->router_, CurveServerKeys{*options.curve, kPeerZapDomain}); !s.ok()) {
      return s.error();
    }
  }
  Result<Endpoint> bound = bind_and_read_back(t->router_, *endpoint);
  if (!bound.ok()) return bound.error();
  t->bound_ = *bound;
  return t;
}

Status ZmqPeerTransport::add_peer(PeerId id, std::string_view endpoint_text,
                               std::optional<std::string> curve_public_key) {
  Result<Endpoint> endpoint = check_new_peer(id, peers_.count(id) != 0, endpoint_text);
  if (!endpoint.ok()) return endpoint.error();
  if (options_.curve && !curve_public_key) {
    return bad("add_peer: CURVE is on, peer " + std::to_string(id) + " needs a public key");
  }

  auto peer = std::make_unique<Peer>(context_);
  peer->id = id;
  peer->endpoint = *endpoint;
  zmq::socket_t& d = peer->dealer;
  set_common_options(d);
  d.set(zmq::sockopt::routing_id, peer_routing_id(options_.self_id, cluster_id_));
  d.set(zmq::sockopt::immediate, true);
  d.set(zmq::sockopt::sndhwm, options_.max_queued_messages_per_peer);
  d.set(zmq::sockopt::reconnect_ivl, options_.reconnect_interval_ms);
  d.set(zmq::sockopt::reconnect_ivl_max, options_.reconnect_interval_max_ms);
  d.set(zmq::sockopt::heartbeat_ivl, options_.heartbeat_interval_ms);
  d.set(zmq::sockopt::heartbeat_timeout, options_.heartbeat_timeout_ms);
  if (options_.curve) {
    Status s = set_curve_client(d, CurveClientKeys{*options_.curve, *curve_public_key});
    if (!s.ok()) return s;
  }
  // The monitor must exist before connect() so that no event is missed. Its
  // inproc name is unique in the process: ZeroMQ frees names asynchronously,
  // so a name must never be reused.
  const std::string monitor_address =
      "inproc://corral-net-peer-monitor-" +
      std::to_string(next_monitor_serial.fetch_add(1, std::memory_order_relaxed));
  if (zmq_socket_monitor(d.handle(), monitor_address.c_str(), kMonitoredEvents) != 0) {
    return make_error(ErrorCode::kInternal, "add_peer: cannot monitor the peer socket: " +
                                                std::string(zmq_strerror(zmq_errno())));
  }
  set_common_options(peer->monitor);
  peer->monitor.connect(monitor_address);
  if (Status s = connect_to(d, *endpoint); !s.ok()) return s;
  peers_.emplace(id, std::move(peer));
  return {};
}

Status ZmqPeerTransport::remove_peer(PeerId id) {
  if (peers_.erase(id) == 0) {
    return make_error(ErrorCode::kNotFound, "remove_peer: no peer " + std::to_string(id));
  }
  return {};
}

bool ZmqPeerTransport::connected(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return false;
  drain_events(*it->second);
  return it->second->link.connected();
}

void ZmqPeerTransport::drain_events(Peer& peer) {
  zmq::message_t header;
  zmq::message_t address;
  // Read down to EAGAIN: the monitor's mailbox is then empty and its fd
  // announces the next event (the monitor socket is only ever read here).
  peer.monitor_unread = false;
  bool retried = false;
  while (receive_frame(peer.monitor.handle(), header)) {
    if (header.more()) receive_frame(peer.monitor.handle(), address);
    if (header.size() < kMonitorEventHeaderBytes) continue;
    uint16_t event = 0;
    std::memcpy(&event, header.data(), sizeof(event));
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) peer.link.handshake_succeeded();
    if ((event & kHandshakeFailedEvents) != 0) peer.link.handshake_failed();
    if (event == ZMQ_EVENT_DISCONNECTED) peer.link.disconnected();
    if (event == ZMQ_EVENT_CONNECT_RETRIED) {
      peer.link.connect_retried();
      retried = true;
    }
  }
  if (peer.link.take_failing_handshakes()) {
    note_wire_trouble({peer.id, {},
                       "ends or never finishes its ZeroMQ handshake (" +
                           std::to_string(PeerLink::kFailedHandshakesReported) +
                           " times in a row): it speaks the tcp peer wire, refuses this member's CURVE key, or hangs"});
  }
  // The dropped connection's queue was detached before CONNECT_RETRIED was
  // emitted; reading ZMQ_EVENTS makes the socket act on that now, so no
  // later message lands in it (peer_link.h).
  if (retried) (void)peer.dealer.get(zmq::sockopt::events);
}

std::vector<PeerId> ZmqPeerTransport::take_lost_connections() {
  // Right after a receive() (the node loop's turn) the events are as fresh
  // as a second look would make them, one poll(2) earlier.
  if (!events_just_drained_) drain_all_events();
  events_just_drained_ = false;
  std::vector<PeerId> lost;
  for (auto& [id, peer] : peers_) {
    if (peer->link.take_lost()) lost.push_back(id);
  }
  return lost;
}

void ZmqPeerTransport::look_at_monitors() {
  monitor_fds_.clear();
  monitor_peers_.clear();
  for (auto& [id, peer] : peers_) {
    if (peer->monitor_unread) continue;
    monitor_fds_.push_back(pollfd{peer->monitor.get(zmq::sockopt::fd), POLLIN, 0});
    monitor_peers_.push_back(peer.get());
  }
  if (monitor_fds_.empty()) return;
  // An error (EINTR, ENOMEM) reads every monitor, as before.
  const int n = ::poll(monitor_fds_.data(), monitor_fds_.size(), 0);
  for (size_t i = 0; i < monitor_fds_.size(); ++i) {
    if (n < 0 || monitor_fds_[i].revents != 0) monitor_peers_[i]->monitor_unread = true;
  }
}

void ZmqPeerTransport::drain_all_events() {
  look_at_monitors();
  for (auto& [id, peer] : peers_) {
    if (peer->monitor_unread) drain_events(*peer);
  }
}

PeerSendResult ZmqPeerTransport::send(PeerId to, std::string_view bytes) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return PeerSendResult::kUnknownPeer;
  Peer& peer = *it->second;
  if (zmq_send(peer.dealer.handle(), bytes.data(), bytes.size(), ZMQ_DONTWAIT) >= 0) {
    peer.link.message_taken();
    ++stats_.sent;
    return PeerSendResult::kSent;
  }
  // EAGAIN: with ZMQ_IMMEDIATE, either no completed connection or the queue
  // is at its bound. The monitor says which.
  drain_events(peer);
  if (!peer.link.connected()) return PeerSendResult::kUnreachable;
  // The monitor can learn of a new connection before the socket has taken
  // its pipe (socket commands are processed lazily); reading ZMQ_EVENTS
  // makes the socket process them, so try once more.
  (void)peer.dealer.get(zmq::sockopt::events);
  if (zmq_send(peer.dealer.handle(), bytes.data(), bytes.size(), ZMQ_DONTWAIT) >= 0) {
    peer.link.message_taken();
    ++stats_.sent;
    return PeerSendResult::kSent;
  }
  return PeerSendResult::kBackpressure;
}

namespace {

struct CountedPeerBody {
  std::string bytes;
  PeerQueuedBytes queued;
};

void release_counted_peer_body(void* /*data*/, void* hint) {
  auto* body = static_cast<CountedPeerBody*>(hint);
  body->queued->fetch_sub(static_cast<int64_t>(body->bytes.size()), std::memory_order_relaxed);
  delete body;
}

// One zero-copy send attempt; the body goes back to the caller on failure.
bool send_counted_once(zmq::socket_t& dealer, std::string& bytes, const PeerQueuedBytes& queued) {
  auto* body = new CountedPeerBody{std::move(bytes), queued};
  const auto size = static_cast<int64_t>(body->bytes.size());
  zmq_msg_t msg;
  if (zmq_msg_init_data(&msg, body->bytes.data(), body->bytes.size(), release_counted_peer_body, body) != 0) {
    bytes = std::move(body->bytes);
    delete body;
    return false;
  }
  queued->fetch_add(size, std::memory_order_relaxed);
  if (zmq_msg_send(&msg, dealer.handle(), ZMQ_DONTWAIT) >= 0) return true;
  // Not taken: the message still owns the body. Take the bytes back first;
  // closing it then runs the release (which subtracts the size again).
  std::string back = body->bytes;
  zmq_msg_close(&msg);
  bytes = std::move(back);
  return false;
}

}  // namespace

PeerSendResult ZmqPeerTransport::send_counted(PeerId to, std::string& bytes, const PeerQueuedBytes& queued) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return PeerSendResult::kUnknownPeer;
  Peer& peer = *it->second;
  if (send_counted_once(peer.dealer, bytes, queued)) {
    peer.link.message_taken();
    ++stats_.sent;
    return PeerSendResult::kSent;
  }
  drain_events(peer);
  if (!peer.link.connected()) return PeerSendResult::kUnreachable;
  (void)peer.dealer.get(zmq::sockopt::events);
  if (send_counted_once(peer.dealer, bytes, queued)) {
    peer.link.message_taken();
    ++stats_.sent;
    return PeerSendResult::kSent;
  }
  return PeerSendResult::kBackpressure;
}

size_t ZmqPeerTransport::watch_with(Poller& poller) {
  return poller.add(router_, Tracking::kOwnerReportsUse);
}

size_t ZmqPeerTransport::receive(size_t max_messages, std::vector<PeerMessage>& out) {
  drain_all_events();
  size_t count = 0;
  zmq::message_t id_frame;
  zmq::message_t payload;
  events_just_drained_ = true;
  inbound_drained_ = false;
  // Malformed messages count against max_messages too, so a flood of them
  // cannot keep one call busy.
  for (size_t handled = 0; handled < max_messages; ++handled) {
    const RoutedReceive got = receive_routed(router_, id_frame, payload);
    if (got == RoutedReceive::kNothing) {
      inbound_drained_ = true;
      break;
    }
    const bool well_formed = got == RoutedReceive::kOk;
    uint64_t cluster_id = 0;
    const PeerId from = parse_peer_routing_id(id_frame.to_string_view(), &cluster_id);
    if (!well_formed || from == 0) {
      ++stats_.dropped_malformed;
      continue;
    }
    const char* user = zmq_msg_gets(payload.handle(), "User-Id");
    out.push_back(PeerMessage{from, payload.to_string(), cluster_id, user ? std::string(user) : std::string()});
    ++stats_.received;
    ++count;
  }
  return count;
}

}  // namespace corral::net
