#include "coordinator/net/tcp_peer_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "coordinator/net/big_endian.h"
#include "coordinator/net/poller.h"
#include "coordinator/net/tcp_socket.h"

namespace corral::net {
namespace {

constexpr char kHelloMagic[4] = {'C', 'R', 'L', 'P'};
constexpr uint8_t kHelloVersion = 1;
constexpr int kListenBacklog = 128;
constexpr size_t kMaxEventsPerWait = 64;
// epoll_wait rounds per receive(): each takes up to kMaxEventsPerWait.
constexpr int kMaxWaitRounds = 4;
constexpr int kMaxAcceptsPerEvent = 32;
constexpr int kListenPauseMs = 100;

Error bad(std::string what) { return make_error(ErrorCode::kBadRequest, std::move(what)); }

}  // namespace

std::string tcp_peer_hello(PeerId id, uint64_t cluster_id) {
  std::string out(kTcpHelloBytes, '\0');
  std::memcpy(out.data(), kHelloMagic, sizeof(kHelloMagic));
  out[4] = static_cast<char>(kHelloVersion);
  put_u64_be(out, 5, id);
  put_u64_be(out, 13, cluster_id);
  return out;
}

std::optional<uint8_t> tcp_peer_hello_version(std::string_view opening) {
  if (opening.size() < kFrameHeaderBytes + sizeof(kHelloMagic) + 1) return std::nullopt;
  if (std::memcmp(opening.data() + kFrameHeaderBytes, kHelloMagic, sizeof(kHelloMagic)) != 0) return std::nullopt;
  return static_cast<uint8_t>(opening[kFrameHeaderBytes + sizeof(kHelloMagic)]);
}

PeerId parse_tcp_peer_hello(std::string_view frame, uint64_t* cluster_id) {
  if (frame.size() != kTcpHelloBytes) return 0;
  if (std::memcmp(frame.data(), kHelloMagic, sizeof(kHelloMagic)) != 0) return 0;
  if (static_cast<uint8_t>(frame[4]) != kHelloVersion) return 0;
  if (cluster_id) *cluster_id = get_u64_be(frame, 13);
  return get_u64_be(frame, 5);
}

// One peer we send to: our connection out to it.
struct TcpPeerTransport::Outbound {
  // kConnecting: TCP's handshake; kGreeting: our hello sent, waiting for
  // the peer's first frame (its welcome), which proves a live process
  // behind the port (the kernel accepts for a stopped one too).
  enum class State : uint8_t { kIdle, kConnecting, kGreeting, kUp };
  PeerId id = 0;
  Endpoint endpoint;
  std::string hello;  // what this connection says first (cluster id as of add_peer)
  State state = State::kIdle;
  std::unique_ptr<FrameStream> stream;
  uint64_t serial = 0;  // of the current socket's epoll registration
  bool watching_write = false;
  Clock::time_point next_attempt{};
  Clock::time_point attempt_started{};
  Clock::time_point last_received{};
  Clock::time_point last_sent{};
  Clock::time_point up_since{};
  int backoff_ms = 0;
};

// One connection a peer opened to us.
struct TcpPeerTransport::Inbound {
  std::unique_ptr<FrameStream> stream;
  uint64_t serial = 0;
  PeerId from = 0;  // 0 until its hello
  bool unknown = false;  // `from` was not a peer of ours at its hello
  uint64_t cluster_id = 0;
  bool watching_write = false;
  Clock::time_point opened{};
  Clock::time_point last_received{};
  Clock::time_point last_sent{};
};

TcpPeerTransport::TcpPeerTransport(const PeerTransportOptions& options, int listen_fd, int epoll_fd)
    : PeerTransport(PeerWire::kTcp, options), listen_fd_(listen_fd), epoll_fd_(epoll_fd) {}

TcpPeerTransport::~TcpPeerTransport() {
  peers_.clear();
  inbound_.clear();
  ::close(listen_fd_);
  ::close(epoll_fd_);
}

Result<std::unique_ptr<TcpPeerTransport>> TcpPeerTransport::create(const PeerTransportOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.error();
  if (options.curve) return bad("peer transport: the tcp wire has no CURVE");
  Result<Endpoint> endpoint = parse_endpoint(options.bind_endpoint, EndpointUse::kBind);
  if (!endpoint.ok()) return endpoint.error();
  Endpoint bound;
  Result<int> listening = tcp_listen(*endpoint, kListenBacklog, bound);
  if (!listening.ok()) return make_error(listening.error().code, "peer " + listening.error().message);
  const int fd = *listening;
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    Error e = make_error(ErrorCode::kUnavailable, errno_text("epoll_create1"));
    ::close(fd);
    return e;
  }
  std::unique_ptr<TcpPeerTransport> t(new TcpPeerTransport(options, fd, ep));
  t->bound_ = bound;
  t->listen_serial_ = t->watch(fd, false);
  return t;
}

FrameStreamLimits TcpPeerTransport::stream_limits() const {
  FrameStreamLimits l;
  l.max_frame_bytes = static_cast<size_t>(options_.max_message_bytes);
  l.max_queued_frames = static_cast<size_t>(options_.max_queued_messages_per_peer);
  l.max_queued_bytes = static_cast<size_t>(options_.max_message_bytes);
  l.max_read_frames = static_cast<size_t>(options_.max_inbound_queued_messages_per_peer);
  l.max_read_bytes = static_cast<size_t>(options_.max_message_bytes);
  return l;
}

uint64_t TcpPeerTransport::watch(int fd, bool want_write) {
  const uint64_t serial = next_serial_++;
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.u64 = serial;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  return serial;
}

void TcpPeerTransport::rewatch(int fd, uint64_t serial, bool want_write) {
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.u64 = serial;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void TcpPeerTransport::unwatch(int fd, uint64_t /*serial*/) {
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void TcpPeerTransport::keep_write_watch(int fd, uint64_t serial, const FrameStream& stream, bool& watching_write) {
  if (stream.wants_write() != watching_write) {
    watching_write = stream.wants_write();
    rewatch(fd, serial, watching_write);
  }
}

size_t TcpPeerTransport::watch_with(Poller& poller) { return poller.add_fd(epoll_fd_); }

// ---- outbound -------------------------------------------------------------

Status TcpPeerTransport::add_peer(PeerId id, std::string_view endpoint_text, std::optional<std::string>) {
  Result<Endpoint> endpoint = check_new_peer(id, peers_.count(id) != 0, endpoint_text);
  if (!endpoint.ok()) return endpoint.error();
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!endpoint_to_sockaddr(*endpoint, addr, len)) {
    return bad("add_peer: not a numeric address: " + std::string(endpoint_text));
  }
  auto peer = std::make_unique<Outbound>();
  peer->id = id;
  peer->endpoint = *endpoint;
  peer->hello = tcp_peer_hello(options_.self_id, cluster_id_);
  peer->backoff_ms = options_.reconnect_interval_ms;
  Outbound& p = *peer;
  peers_.emplace(id, std::move(peer));
  connect(p, Clock::now());
  return {};
}

Status TcpPeerTransport::remove_peer(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return make_error(ErrorCode::kNotFound, "remove_peer: no peer " + std::to_string(id));
  Outbound& p = *it->second;
  if (p.stream) {
    unwatch(p.stream->fd(), p.serial);
    outbound_by_serial_.erase(p.serial);
  }
  peers_.erase(it);
  std::erase(lost_, id);  // no longer a peer: its drop is news to nobody
  return {};
}

bool TcpPeerTransport::connected(PeerId id) {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second->state == Outbound::State::kUp;
}

std::vector<PeerId> TcpPeerTransport::take_lost_connections() {
  std::vector<PeerId> lost;
  lost.swap(lost_);
  return lost;
}

void TcpPeerTransport::connect(Outbound& p, Clock::time_point now) {
  p.attempt_started = now;
  const int fd = tcp_connect_start(p.endpoint);
  if (fd < 0) {
    p.state = Outbound::State::kIdle;
    p.next_attempt = now + std::chrono::milliseconds(p.backoff_ms);
    p.backoff_ms = std::min(p.backoff_ms * 2, options_.reconnect_interval_max_ms);
    return;
  }
  // Connected or not, the socket says so by becoming writable.
  p.stream = std::make_unique<FrameStream>(fd, stream_limits());
  p.serial = watch(fd, true);
  p.watching_write = true;
  outbound_by_serial_[p.serial] = &p;
  p.state = Outbound::State::kConnecting;
}

void TcpPeerTransport::greet(Outbound& p, Clock::time_point now) {
  p.state = Outbound::State::kGreeting;
  p.last_sent = now;
  if (p.stream->send(p.hello) == FrameSendResult::kFailed) {
    drop(p, now);
    return;
  }
  keep_write_watch(p.stream->fd(), p.serial, *p.stream, p.watching_write);
}

void TcpPeerTransport::up(Outbound& p, Clock::time_point now) {
  p.state = Outbound::State::kUp;
  p.up_since = now;
  p.last_received = now;
}

void TcpPeerTransport::drop(Outbound& p, Clock::time_point now) {
  if (p.state == Outbound::State::kUp) lost_.push_back(p.id);
  if (p.state == Outbound::State::kUp && now - p.up_since >= std::chrono::milliseconds(options_.heartbeat_interval_ms)) {
    // A connection that lived: its peer restarted or the link broke, and
    // is tried again at once. One that died young (a peer that closes
    // what we open: another wire, or a member refusing us) backs off.
    p.next_attempt = now;
    p.backoff_ms = options_.reconnect_interval_ms;
  } else {
    p.next_attempt = now + std::chrono::milliseconds(p.backoff_ms);
    p.backoff_ms = std::min(p.backoff_ms * 2, options_.reconnect_interval_max_ms);
  }
  if (p.stream) {
    unwatch(p.stream->fd(), p.serial);
    outbound_by_serial_.erase(p.serial);
    p.stream.reset();
  }
  p.state = Outbound::State::kIdle;
  p.watching_write = false;
}

void TcpPeerTransport::on_outbound_event(Outbound& p, uint32_t events, Clock::time_point now) {
  if (p.state == Outbound::State::kConnecting) {
    if (tcp_connect_error(p.stream->fd()) != 0) {
      drop(p, now);
      return;
    }
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    if (events & (EPOLLERR | EPOLLHUP)) {
      drop(p, now);
      return;
    }
    greet(p, now);
    return;
  }
  if (events & EPOLLIN) {
    const uint64_t before = p.stream->bytes_read();
    if (!read_outbound(p, now)) {
      if (looks_like_zmtp(p.stream->opening())) note_wire_trouble({p.id, {}, "answers in ZeroMQ (the zmq peer wire)"});
      drop(p, now);
      return;
    }
    if (p.state == Outbound::State::kGreeting && p.stream->bytes_read() != before) up(p, now);
  }
  if (events & EPOLLOUT) {
    if (!p.stream->flush()) {
      drop(p, now);
      return;
    }
    keep_write_watch(p.stream->fd(), p.serial, *p.stream, p.watching_write);
  }
  if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) drop(p, now);
}

bool TcpPeerTransport::read_outbound(Outbound& p, Clock::time_point now) {
  // The far side sends only heartbeats on our connection.
  const uint64_t before = p.stream->bytes_read();
  const FrameReadResult r = p.stream->read_some();
  while (p.stream->next_frame(scratch_)) {
    if (!scratch_.empty()) ++stats_.dropped_malformed;
  }
  if (p.stream->bytes_read() != before) p.last_received = now;
  return r == FrameReadResult::kOk;
}

PeerSendResult TcpPeerTransport::after_send(Outbound& p, FrameSendResult result) {
  switch (result) {
    case FrameSendResult::kSent:
      ++stats_.sent;
      p.last_sent = Clock::now();
      keep_write_watch(p.stream->fd(), p.serial, *p.stream, p.watching_write);
      return PeerSendResult::kSent;
    case FrameSendResult::kBackpressure:
      return PeerSendResult::kBackpressure;
    case FrameSendResult::kFailed:
      drop(p, Clock::now());
      return PeerSendResult::kUnreachable;
  }
  return PeerSendResult::kUnreachable;
}

PeerSendResult TcpPeerTransport::send(PeerId to, std::string_view bytes) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return PeerSendResult::kUnknownPeer;
  Outbound& p = *it->second;
  if (p.state != Outbound::State::kUp) return PeerSendResult::kUnreachable;
  return after_send(p, p.stream->send(bytes));
}

PeerSendResult TcpPeerTransport::send_counted(PeerId to, std::string& bytes, const PeerQueuedBytes& queued) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return PeerSendResult::kUnknownPeer;
  Outbound& p = *it->second;
  if (p.state != Outbound::State::kUp) return PeerSendResult::kUnreachable;
  std::string taken = std::move(bytes);
  const FrameSendResult r = p.stream->send(std::move(taken), queued);
  if (r != FrameSendResult::kSent) bytes = std::move(taken);  // send did not consume it
  return after_send(p, r);
}

// ---- inbound --------------------------------------------------------------

void TcpPeerTransport::accept_all(Clock::time_point now) {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection stays, and
        // the listener would wake every poll. Look again a little later.
        unwatch(listen_fd_, listen_serial_);
        listen_paused_until_ = now + std::chrono::milliseconds(kListenPauseMs);
      }
      return;  // EAGAIN, or a failure (ECONNABORTED, EINTR) the next event retries
    }
    // At the bound the oldest silent connection makes room: refusing the
    // new one would let a few silent clients keep a restarted member out.
    if (unnamed_inbound_ >= kMaxUnnamedInbound) close_oldest_unnamed();
    if (inbound_.size() >= kMaxInbound) {
      ::close(fd);
      ++stats_.dropped_malformed;
      continue;
    }
    tcp_no_delay(fd);
    auto conn = std::make_unique<Inbound>();
    FrameStreamLimits limits = stream_limits();
    limits.max_first_frame_bytes = kTcpHelloBytes;  // anything longer is not a hello
    conn->stream = std::make_unique<FrameStream>(fd, limits);
    conn->serial = watch(fd, false);
    conn->opened = now;
    conn->last_received = now;
    conn->last_sent = now;
    ++unnamed_inbound_;
    inbound_.emplace(conn->serial, std::move(conn));
  }
}

bool TcpPeerTransport::take_hello(Inbound& conn, Clock::time_point now) {
  if (!conn.stream->next_frame(scratch_)) return true;  // not here yet
  uint64_t cluster_id = 0;
  const PeerId from = parse_tcp_peer_hello(scratch_, &cluster_id);
  if (from == 0) {
    ++stats_.dropped_malformed;
    return false;
  }
  conn.from = from;
  conn.cluster_id = cluster_id;
  --unnamed_inbound_;
  // The welcome: the other side counts its link up from this frame.
  if (conn.stream->send(std::string_view()) == FrameSendResult::kFailed) return false;
  keep_write_watch(conn.stream->fd(), conn.serial, *conn.stream, conn.watching_write);
  // A second connection from the same member replaces the first.
  auto [it, inserted] = inbound_by_peer_.try_emplace(from, conn.serial);
  if (!inserted) {
    const uint64_t old = it->second;
    it->second = conn.serial;
    close_inbound(old);
  }
  if (!peers_.count(from)) {
    conn.unknown = true;
    if (++unknown_inbound_ > kMaxUnknownInbound) close_oldest_unknown(conn.serial);
  }
  // A peer that connects to us is up, and so is, very likely, its
  // listener: our connection to it need not wait out its backoff (a
  // member that started or restarted is then reached at once, not after
  // up to reconnect_interval_max_ms of refused attempts).
  if (auto peer = peers_.find(from); peer != peers_.end() && peer->second->state == Outbound::State::kIdle) {
    peer->second->backoff_ms = options_.reconnect_interval_ms;
    connect(*peer->second, now);
  }
  return true;
}

void TcpPeerTransport::note_first_bytes(const Inbound& conn) {
  const std::string_view opening = conn.stream->opening();
  if (looks_like_zmtp(opening)) {
    note_wire_trouble({0, tcp_remote_address(conn.stream->fd()), "speaks ZeroMQ (the zmq peer wire)"});
    return;
  }
  const auto version = tcp_peer_hello_version(opening);
  if (version && *version != kHelloVersion) {
    note_wire_trouble({0, tcp_remote_address(conn.stream->fd()),
                       "says hello in version " + std::to_string(*version) + " of the tcp peer wire, and this member speaks version " +
                           std::to_string(kHelloVersion) + ": it runs another corral version",
                       true});
  }
}

void TcpPeerTransport::close_oldest_unnamed() {
  // Serials grow, so the first unnamed one in inbound_ is the oldest.
  for (const auto& [serial, conn] : inbound_) {
    if (conn->from != 0) continue;
    ++stats_.dropped_malformed;
    close_inbound(serial);
    return;
  }
}

void TcpPeerTransport::close_oldest_unknown(uint64_t except_serial) {
  for (const auto& [serial, conn] : inbound_) {
    if (!conn->unknown || serial == except_serial) continue;
    ++stats_.dropped_malformed;
    close_inbound(serial);
    return;
  }
}

void TcpPeerTransport::close_inbound(uint64_t serial) {
  auto it = inbound_.find(serial);
  if (it == inbound_.end()) return;
  Inbound& conn = *it->second;
  unwatch(conn.stream->fd(), serial);
  if (conn.unknown) --unknown_inbound_;
  if (conn.from == 0) {
    --unnamed_inbound_;
  } else {
    auto named = inbound_by_peer_.find(conn.from);
    if (named != inbound_by_peer_.end() && named->second == serial) inbound_by_peer_.erase(named);
  }
  inbound_.erase(it);
}

void TcpPeerTransport::on_inbound_event(Inbound& conn, uint32_t events, Clock::time_point now) {
  const uint64_t serial = conn.serial;
  if (events & EPOLLOUT) {
    if (!conn.stream->flush()) {
      close_inbound(serial);
      return;
    }
    keep_write_watch(conn.stream->fd(), serial, *conn.stream, conn.watching_write);
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    const uint64_t before = conn.stream->bytes_read();
    const FrameReadResult r = conn.stream->read_some();
    if (conn.stream->bytes_read() != before) conn.last_received = now;
    if (r == FrameReadResult::kTooLarge) ++stats_.dropped_malformed;
    if (conn.from == 0 && (r == FrameReadResult::kTooLarge || !take_hello(conn, now))) {
      note_first_bytes(conn);
      close_inbound(serial);
      return;
    }
    // A dead connection's frames already read are still delivered.
    if (r != FrameReadResult::kOk && conn.stream->frames_ready() == 0) close_inbound(serial);
  }
}

size_t TcpPeerTransport::receive(size_t max_messages, std::vector<PeerMessage>& out) {
  const auto now = Clock::now();
  epoll_event events[kMaxEventsPerWait];
  for (int round = 0; round < kMaxWaitRounds; ++round) {
    const int n = ::epoll_wait(epoll_fd_, events, static_cast<int>(kMaxEventsPerWait), 0);
    for (int i = 0; i < n; ++i) {
      const uint64_t serial = events[i].data.u64;
      if (serial == listen_serial_) {
        accept_all(now);
      } else if (auto o = outbound_by_serial_.find(serial); o != outbound_by_serial_.end()) {
        on_outbound_event(*o->second, events[i].events, now);
      } else if (auto c = inbound_.find(serial); c != inbound_.end()) {
        on_inbound_event(*c->second, events[i].events, now);
      }
      // else: closed earlier in this batch
    }
    if (n < static_cast<int>(kMaxEventsPerWait)) break;
  }

  // Deliver round-robin over the named connections, starting after the
  // one the last call stopped at, so that one busy peer cannot starve another.
  size_t count = 0;
  bool left_over = false;
  std::vector<uint64_t> dead;
  auto start = inbound_.upper_bound(next_delivery_from_);
  for (size_t visited = 0; visited < inbound_.size(); ++visited, ++start) {
    if (start == inbound_.end()) start = inbound_.begin();
    Inbound& conn = *start->second;
    if (conn.from == 0) continue;
    while (count < max_messages && conn.stream->next_frame(scratch_)) {
      if (scratch_.empty()) continue;  // a heartbeat
      out.push_back(PeerMessage{conn.from, std::move(scratch_), conn.cluster_id, std::string()});
      scratch_.clear();
      ++stats_.received;
      ++count;
      next_delivery_from_ = conn.serial;
    }
    if (conn.stream->frames_ready() > 0) left_over = true;
    if (conn.stream->failed() && conn.stream->frames_ready() == 0) dead.push_back(conn.serial);
  }
  for (uint64_t serial : dead) close_inbound(serial);
  inbound_drained_ = !left_over;
  return count;
}

// ---- timers ---------------------------------------------------------------

void TcpPeerTransport::maintain(Clock::time_point now) {
  const auto interval = std::chrono::milliseconds(options_.heartbeat_interval_ms);
  const auto timeout = std::chrono::milliseconds(options_.heartbeat_timeout_ms);
  if (listen_paused_until_ && now >= *listen_paused_until_) {
    listen_paused_until_.reset();
    listen_serial_ = watch(listen_fd_, false);
  }
  for (auto& [id, peer] : peers_) {
    Outbound& p = *peer;
    switch (p.state) {
      case Outbound::State::kIdle:
        if (now >= p.next_attempt) connect(p, now);
        break;
      case Outbound::State::kConnecting:
      case Outbound::State::kGreeting:
        if (now - p.attempt_started > timeout) drop(p, now);
        break;
      case Outbound::State::kUp:
        if (now - p.last_received > timeout) {
          // Silent that long: but first read what may have come while this
          // thread was busy elsewhere.
          if (!read_outbound(p, now) || now - p.last_received > timeout) {
            drop(p, now);
            break;
          }
        }
        if (now - p.last_sent >= interval) {
          p.last_sent = now;
          if (p.stream->send(std::string_view()) == FrameSendResult::kFailed) {
            drop(p, now);
            break;
          }
          keep_write_watch(p.stream->fd(), p.serial, *p.stream, p.watching_write);
        }
        break;
    }
  }
  // By serial, looked up again each time: reading may close connections.
  serials_.clear();
  for (const auto& [serial, conn] : inbound_) serials_.push_back(serial);
  for (uint64_t serial : serials_) {
    auto it = inbound_.find(serial);
    if (it == inbound_.end()) continue;
    Inbound& conn = *it->second;
    if (conn.from == 0) {
      if (now - conn.opened > timeout) close_inbound(serial);
      continue;
    }
    if (now - conn.last_received > timeout) {
      // Read first what may have come while this thread was busy elsewhere.
      on_inbound_event(conn, EPOLLIN, now);
      if (!inbound_.count(serial)) continue;
      if (conn.stream->frames_ready() > 0) inbound_drained_ = false;
      if (now - conn.last_received > timeout && conn.stream->frames_ready() == 0) {
        close_inbound(serial);
        continue;
      }
    }
    if (now - conn.last_sent >= interval) {
      conn.last_sent = now;
      if (conn.stream->send(std::string_view()) == FrameSendResult::kFailed) {
        close_inbound(serial);
        continue;
      }
      keep_write_watch(conn.stream->fd(), serial, *conn.stream, conn.watching_write);
    }
  }
}

}  // namespace corral::net
