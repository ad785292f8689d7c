// The client's connections: per member endpoint a TCP connection (the TCP
// wire) or a DEALER with a socket monitor (the ZeroMQ wire), the replies read
// from it, probes of members not heard from lately, and which endpoint
// requests go to.
//
// Why the DEALER sockets are made here rather than by net::ClientConnection:
// the retry rule needs to know whether a request can have left the process,
// which needs a ZeroMQ socket monitor attached before the socket connects
// (ClientConnection connects inside create(), so its first CONNECTED event
// could be missed). Endpoint parsing and socket options still come from net/.
#include "client/client_impl.h"

#include <zmq.h>

#include <cerrno>
#include <cstring>

#include "coordinator/base/check.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/socket_options.h"

namespace corral::client {

namespace {

using std::chrono::milliseconds;

// Messages read from one socket per loop turn, so one busy connection cannot
// starve timers and the inbox.
constexpr int kMaxMessagesPerTurn = 4096;
// ZMTP heartbeats: a member that stops answering pings (SIGSTOP, a cable
// pulled) is noticed as a disconnect without waiting for TCP.
constexpr int kHeartbeatIntervalMs = 1000;
constexpr int kHeartbeatTimeoutMs = 3000;
// An endpoint that left a probe unanswered is skipped by the rotation this
// long (unless every endpoint is), or until it answers something.
constexpr milliseconds kSuspectMs{3000};
// What a probe asks: served by any member from its own state, without raft.
constexpr const char* kProbeKey = "/";

}  // namespace

Result<std::string> Client::Impl::normalise_endpoint(const std::string& text) {
  corral::Result<net::Endpoint> e = net::parse_endpoint(text, net::EndpointUse::kConnect);
  if (!e.ok()) return make_error(ErrorCode::kBadRequest, e.error().message);
  return e->to_zmq();
}

void Client::Impl::set_current(const std::string& endpoint) {
  if (current == endpoint) return;
  current = endpoint;
  std::lock_guard lock(mu);
  current_public = endpoint;
}

// Moves requests on to the next endpoint, once per failure of `failed`
// (many requests failing on one endpoint rotate once, not many times).
// Suspect endpoints are skipped while another one is not.
void Client::Impl::rotate_from(const std::string& failed) {
  if (current != failed) return;
  const auto now = Clock::now();
  std::optional<size_t> fallback;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    rotation = (rotation + 1) % endpoints.size();
    const std::string& e = endpoints[rotation];
    if (e == failed && endpoints.size() > 1) continue;
    if (!is_suspect(e, now)) {
      set_current(e);
      return;
    }
    if (!fallback) fallback = rotation;
  }
  if (fallback) rotation = *fallback;
  set_current(endpoints[rotation]);
}

bool Client::Impl::is_suspect(const std::string& endpoint, Clock::time_point now) const {
  auto it = suspect_until.find(endpoint);
  return it != suspect_until.end() && now < it->second;
}

bool Client::Impl::trusted(const Conn& conn, Clock::time_point now) const {
  return conn.heard && now - conn.last_heard < options.trust_window;
}

Client::Impl::Conn* Client::Impl::get_conn(const std::string& key) {
  if (auto it = conns.find(key); it != conns.end()) return it->second.get();
  corral::Result<net::Endpoint> endpoint = net::parse_endpoint(key, net::EndpointUse::kConnect);
  if (!endpoint.ok()) return nullptr;
  auto conn = std::make_unique<Conn>();
  conn->key = key;
  conn->created = Clock::now();
  if (wire == net::ClientWire::kTcp) return make_tcp_conn(std::move(conn));
  try {
    conn->dealer = zmq::socket_t(*context, zmq::socket_type::dealer);
    net::set_common_options(conn->dealer);
    conn->dealer.set(zmq::sockopt::sndhwm, static_cast<int>(options.max_in_flight));
    // Unbounded on our side: the member bounds what it buffers per watcher,
    // and a full receive queue would make its ROUTER drop replies.
    conn->dealer.set(zmq::sockopt::rcvhwm, 0);
    conn->dealer.set(zmq::sockopt::heartbeat_ivl, kHeartbeatIntervalMs);
    conn->dealer.set(zmq::sockopt::heartbeat_timeout, kHeartbeatTimeoutMs);
    if (endpoint->ipv6) conn->dealer.set(zmq::sockopt::ipv6, true);
    if (!options.curve_server_keys.empty()) {
      auto listed = curve_server_key_by_endpoint.find(key);
      const std::string& server_key =
          listed != curve_server_key_by_endpoint.end() ? listed->second : curve_any_server_key;
      if (server_key.empty()) return nullptr;  // no key known for it: never spoken to in clear
      net::CurveClientKeys keys{{options.curve_public_key, options.curve_secret_key}, server_key};
      if (!net::set_curve_client(conn->dealer, keys).ok()) return nullptr;
    }
    const std::string monitor_address =
        "inproc://corral-client-monitor-" + std::to_string(reinterpret_cast<uintptr_t>(this)) +
        "-" + std::to_string(++monitor_seq);
    if (zmq_socket_monitor(conn->dealer.handle(), monitor_address.c_str(),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED) != 0) {
      return nullptr;
    }
    conn->monitor = zmq::socket_t(*context, zmq::socket_type::pair);
    conn->monitor.set(zmq::sockopt::linger, 0);
    conn->monitor.connect(monitor_address);
    conn->dealer.connect(endpoint->to_zmq());
  } catch (const zmq::error_t&) {
    return nullptr;
  }
  conn->slot = poller->add(conn->dealer, net::Tracking::kOwnerReportsUse);
  conn->monitor_slot = poller->add(conn->monitor, net::Tracking::kOwnerReportsUse);
  next_timer_due = std::min(next_timer_due, conn->created + options.connect_timeout);
  by_slot[conn->slot] = {conn.get(), false};
  by_slot[conn->monitor_slot] = {conn.get(), true};
  Conn* raw = conn.get();
  conns[key] = std::move(conn);
  return raw;
}

Client::Impl::Conn* Client::Impl::make_tcp_conn(std::unique_ptr<Conn> conn) {
  net::ClientConnectionOptions o;
  o.wire = net::ClientWire::kTcp;
  o.endpoint = conn->key;
  o.max_queued_requests = static_cast<int>(options.max_in_flight);
  o.max_queued_replies = kMaxMessagesPerTurn;  // read per pump; the member bounds what it holds
  o.heartbeat_interval_ms = kHeartbeatIntervalMs;
  o.heartbeat_timeout_ms = kHeartbeatTimeoutMs;
  auto tcp = net::TcpClientConnection::create(o);
  if (!tcp.ok()) return nullptr;
  conn->tcp = std::move(tcp).value();
  conn->slot = poller->add_fd(conn->tcp->event_fd());
  next_timer_due = std::min(next_timer_due, conn->created + options.connect_timeout);
  by_slot[conn->slot] = {conn.get(), false};
  Conn* raw = conn.get();
  conns[conn->key] = std::move(conn);
  return raw;
}

bool Client::Impl::service_tcp(Conn* conn, Clock::time_point now) {
  const std::string key = conn->key;
  conn->tcp->pump(now);
  bool received = false;
  for (net::ConnectionEvent event : conn->tcp->take_events()) {
    switch (event) {
      case net::ConnectionEvent::kConnected:
        if (!conn->up) {
          conn->up = true;
          ++conn->ups;
        }
        break;
      case net::ConnectionEvent::kClosed:
        received = read_replies(conn);  // answers that arrived before the break still count
        close_conn(key, true);
        return received;
      case net::ConnectionEvent::kRefused:
        // Nobody listens (the member is down): give up on it now rather
        // than at connect_timeout. Nothing was sent on it.
        close_conn(key, false);
        return false;
    }
  }
  return read_replies(conn);
}

Client::Impl::Clock::time_point Client::Impl::service_tcp_timers(Clock::time_point now) {
  std::vector<Conn*> due;
  for (const auto& [key, conn] : conns) {
    if (conn->tcp && (conn->tcp->has_events() || now >= conn->tcp->next_due())) due.push_back(conn.get());
  }
  for (Conn* conn : due) {
    auto it = conns.find(conn->key);
    if (it == conns.end() || it->second.get() != conn) continue;  // closed by an earlier one
    if (service_tcp(conn, now)) release_held(conn->key, conn);
  }
  Clock::time_point next = Clock::time_point::max();
  for (const auto& [key, conn] : conns) {
    if (conn->tcp) next = std::min(next, conn->tcp->has_events() ? now : conn->tcp->next_due());
  }
  return next;
}

// Whether what was sent on `conn` since the attempt began may have left. A
// write handed to ZeroMQ may have left whatever the monitor has told us so
// far: its CONNECTED event can still be queued, unread, while the bytes go.
bool Client::Impl::may_have_left(const Pending& p, const Conn* conn) {
  if (p.cls == RequestClass::kWrite || p.conn_up_at_send) return true;
  return conn != nullptr && conn->ups > p.conn_ups_at_send;
}

// Closes a connection: its requests fail over, its watches are re-created.
void Client::Impl::close_conn(const std::string& key, bool lost) {
  auto it = conns.find(key);
  if (it == conns.end()) return;
  std::unique_ptr<Conn> conn = std::move(it->second);
  conns.erase(it);
  by_slot.erase(conn->slot);
  (void)poller->remove(conn->slot);
  if (!conn->tcp) {
    by_slot.erase(conn->monitor_slot);
    (void)poller->remove(conn->monitor_slot);
    zmq_socket_monitor(conn->dealer.handle(), nullptr, 0);
  }

  std::vector<uint64_t> ids;
  for (const auto& [id, p] : inflight) {
    if (p->conn_key == key) ids.push_back(id);
  }
  std::vector<std::pair<PendingPtr, Failure>> failed;
  for (uint64_t id : ids) {
    auto pit = inflight.find(id);
    PendingPtr p = std::move(pit->second);
    inflight.erase(pit);
    const Failure f = (lost && may_have_left(*p, conn.get())) ? Failure::kConnectionLost
                                                              : Failure::kNeverDelivered;
    failed.emplace_back(std::move(p), f);
  }
  for (PendingPtr& p : conn->held) failed.emplace_back(std::move(p), Failure::kNeverDelivered);
  conn->held.clear();
  for (auto& [id, w] : watches) {
    if (w.conn_key != key || w.server_id < 0) continue;
    watch_by_server.erase({key, w.server_id});
    w.server_id = -1;
    w.conn_key.clear();
    start_watch_create(w, milliseconds(0));
  }
  graveyard.push_back(std::move(conn));
  rotate_from(key);
  const Error err = make_error(lost ? ErrorCode::kUnavailable : ErrorCode::kUnreachable,
                               (lost ? "connection lost to " : "could not connect to ") + key);
  for (auto& [p, f] : failed) fail_attempt(std::move(p), f, err);
}

void Client::Impl::read_monitor(Conn* conn) {
  const std::string key = conn->key;
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    zmq::message_t event;
    zmq::message_t address;
    if (zmq_msg_recv(event.handle(), conn->monitor.handle(), ZMQ_DONTWAIT) < 0) {
      if (errno == EAGAIN) poller->drained(conn->monitor_slot);
      return;
    }
    if (event.more()) {
      if (zmq_msg_recv(address.handle(), conn->monitor.handle(), ZMQ_DONTWAIT) < 0) return;
    }
    if (event.size() < sizeof(uint16_t)) continue;
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof(id));
    if (id == ZMQ_EVENT_CONNECTED) {
      if (!conn->up) {
        conn->up = true;
        ++conn->ups;
      }
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
      read_replies(conn);  // answers that arrived before the break still count
      close_conn(key, true);
      return;  // conn is in the graveyard now
    } else if (id == ZMQ_EVENT_CONNECT_RETRIED && !conn->up) {
      // Refused (nobody listens: the member is down): give up on it now
      // rather than at connect_timeout. Nothing was sent on it. This is
      // what makes a leader's death cheap: the members still name it in
      // their hints until they elect another.
      close_conn(key, false);
      return;
    }
  }
}

// True if anything arrived (the member is alive: see release_held).
bool Client::Impl::read_replies(Conn* conn) {
  const std::string key = conn->key;
  bool received = false;
  if (conn->tcp) {
    std::string frame;
    for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
      if (auto it = conns.find(key); it == conns.end() || it->second.get() != conn) return received;
      if (!conn->tcp->take_frame(frame)) break;
      received = true;
      conn->heard = true;
      conn->last_heard = Clock::now();
      Result<ServerMessage> msg = decode_server_message(frame);
      if (!msg.ok()) continue;  // nothing to match it to; its request times out
      std::visit([&](auto& m) { handle(key, m); }, msg.value());
    }
    if (auto it = conns.find(key); it != conns.end() && it->second.get() == conn) {
      conn->tcp->holds_input() ? poller->used(conn->slot) : poller->drained(conn->slot);
    }
    return received;
  }
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    if (auto it = conns.find(key); it == conns.end() || it->second.get() != conn) return received;
    zmq::message_t frame;
    if (zmq_msg_recv(frame.handle(), conn->dealer.handle(), ZMQ_DONTWAIT) < 0) {
      if (errno == EAGAIN) poller->drained(conn->slot);
      return received;
    }
    if (!conn->up) {
      conn->up = true;
      ++conn->ups;
    }
    received = true;
    conn->heard = true;
    conn->last_heard = Clock::now();
    // Drop extra frames: a member sends one frame per message.
    while (frame.more()) {
      zmq::message_t extra;
      if (zmq_msg_recv(extra.handle(), conn->dealer.handle(), ZMQ_DONTWAIT) < 0) break;
      if (!extra.more()) break;
    }
    Result<ServerMessage> msg =
        decode_server_message(std::string_view(frame.data<char>(), frame.size()));
    if (!msg.ok()) continue;  // nothing to match it to; its request times out
    std::visit([&](auto& m) { handle(key, m); }, msg.value());
  }
  return received;
}

// `conn` (at `key`) has just answered: it is no longer suspect, and the
// writes held for it go out, in the order they came.
void Client::Impl::release_held(const std::string& key, Conn* conn) {
  auto it = conns.find(key);
  if (it == conns.end() || it->second.get() != conn) return;
  suspect_until.erase(key);
  std::deque<PendingPtr> held = std::move(conn->held);
  conn->held.clear();
  for (PendingPtr& p : held) send_on(*conn, std::move(p));
}

void Client::Impl::hold(Conn& conn, PendingPtr p) {
  next_timer_due = std::min(next_timer_due, p->deadline);
  conn.held.push_back(std::move(p));
  ensure_probe(conn);
}

void Client::Impl::ensure_probe(Conn& conn) {
  if (conn.probe_id != 0) return;
  auto p = std::make_unique<Pending>();
  RangeRequest probe;
  probe.key = kProbeKey;
  probe.count_only = true;
  probe.serializable = true;
  p->id = next_id.fetch_add(1);
  Result<std::string> bytes = encode_request(p->id, probe);
  CORRAL_CHECK(bytes.ok());
  p->bytes = std::move(bytes).value();
  p->body = std::move(probe);
  p->cls = RequestClass::kRead;
  p->counted = false;
  p->pinned = conn.key;
  p->conn_key = conn.key;
  p->deadline = Clock::now() + options.probe_timeout;
  p->internal_done = [this](Pending& done, Result<ResponseBody>) { probe_ended(done); };
  conn.probe_id = p->id;
  send_on(conn, std::move(p));
}

// Any answer, even an error, shows the member alive (read_replies has
// released what it held); no answer within probe_timeout makes it suspect.
void Client::Impl::probe_ended(const Pending& probe) {
  auto it = conns.find(probe.conn_key);
  if (it == conns.end() || it->second->probe_id != probe.id) return;
  Conn& conn = *it->second;
  conn.probe_id = 0;
  const auto now = Clock::now();
  if (trusted(conn, now) && conn.last_heard >= probe.sent_at) return;
  give_up_on(conn, now);
}

// The member at `conn` does not answer: what it holds never left and goes
// elsewhere, so do the repeatable requests waiting there. Writes it was
// sent stay: they may yet be answered, else end as outcome unknown.
void Client::Impl::give_up_on(Conn& conn, Clock::time_point now) {
  const std::string key = conn.key;
  suspect_until[key] = now + kSuspectMs;
  std::deque<PendingPtr> held = std::move(conn.held);
  conn.held.clear();
  std::vector<PendingPtr> reads;
  for (auto it = inflight.begin(); it != inflight.end();) {
    const Pending& p = *it->second;
    if (p.conn_key == key && p.cls != RequestClass::kWrite && p.pinned.empty() && !p.got_chunk) {
      reads.push_back(std::move(it->second));
      it = inflight.erase(it);
    } else {
      ++it;
    }
  }
  rotate_from(key);
  const std::string why = key + " did not answer a probe within " +
                          std::to_string(options.probe_timeout.count()) + " ms";
  for (PendingPtr& p : held) {
    fail_attempt(std::move(p), Failure::kNeverDelivered, make_error(ErrorCode::kUnavailable, why));
  }
  for (PendingPtr& p : reads) {
    fail_attempt(std::move(p), Failure::kNoAnswer, make_error(ErrorCode::kTimeout, why));
  }
}

}  // namespace corral::client
