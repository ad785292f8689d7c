#include "coordinator/net/tcp_client_listener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "coordinator/net/poller.h"
#include "coordinator/net/tcp_socket.h"

namespace corral::net {
namespace {

constexpr int kListenBacklog = 1024;
constexpr size_t kMaxEventsPerWait = 64;
// epoll_wait rounds per receive(): each takes up to kMaxEventsPerWait, so
// one call does bounded work; what is left keeps the epoll fd readable.
constexpr int kMaxWaitRounds = 4;
constexpr int kMaxAcceptsPerEvent = 64;
constexpr uint64_t kListenSerial = 0;

}  // namespace

ConnectionId tcp_connection_id(uint64_t serial) {
  ConnectionId id;
  id.routing_id.resize(8);
  for (size_t i = 0; i < 8; ++i) id.routing_id[i] = static_cast<char>(serial >> (8 * (7 - i)));
  return id;
}

uint64_t tcp_connection_serial(const ConnectionId& connection) {
  if (connection.routing_id.size() != 8) return 0;
  uint64_t v = 0;
  for (char c : connection.routing_id) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

TcpClientListener::TcpClientListener(const ClientListenerOptions& options, int listen_fd, int epoll_fd)
    : ClientListener(ClientWire::kTcp), options_(options), listen_fd_(listen_fd), epoll_fd_(epoll_fd) {}

TcpClientListener::~TcpClientListener() {
  conns_.clear();
  ::close(listen_fd_);
  ::close(epoll_fd_);
}

Result<std::unique_ptr<TcpClientListener>> TcpClientListener::create(const ClientListenerOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.error();
  if (options.curve) return make_error(ErrorCode::kBadRequest, "client listener: the tcp wire has no CURVE");
  Result<Endpoint> endpoint = parse_endpoint(options.bind_endpoint, EndpointUse::kBind);
  if (!endpoint.ok()) return endpoint.error();
  Endpoint bound;
  Result<int> fd = tcp_listen(*endpoint, kListenBacklog, bound);
  if (!fd.ok()) return fd.error();
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    Error e = make_error(ErrorCode::kUnavailable, errno_text("epoll_create1"));
    ::close(*fd);
    return e;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenSerial;
  (void)::epoll_ctl(ep, EPOLL_CTL_ADD, *fd, &ev);
  std::unique_ptr<TcpClientListener> l(new TcpClientListener(options, *fd, ep));
  l->bound_ = bound;
  l->drained_ = true;
  return l;
}

FrameStreamLimits TcpClientListener::stream_limits() const {
  FrameStreamLimits l;
  l.max_frame_bytes = static_cast<size_t>(options_.max_request_bytes);
  l.max_queued_frames = static_cast<size_t>(options_.max_queued_replies_per_connection);
  l.max_queued_bytes = static_cast<size_t>(options_.max_queued_reply_bytes_per_connection);
  l.max_read_frames = static_cast<size_t>(options_.max_queued_requests_per_connection);
  return l;
}

size_t TcpClientListener::watch_with(Poller& poller) { return poller.add_fd(epoll_fd_); }

void TcpClientListener::accept_all() {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Still readable, and would be reported at once again: look away a while.
        (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_ = true;
        accept_resume_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAcceptPauseMs);
      }
      return;  // EAGAIN, or a connection that went before it was taken
    }
    if (conns_.size() >= options_.max_connections) {
      ::close(fd);
      ++stats_.dropped_malformed;
      continue;
    }
    tcp_no_delay(fd);
    auto conn = std::make_unique<Conn>();
    conn->stream = std::make_unique<FrameStream>(fd, stream_limits());
    conn->serial = next_serial_++;
    conn->last_received = now_;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = conn->serial;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) continue;  // conn (and fd) dropped
    conns_.emplace(conn->serial, std::move(conn));
  }
}

void TcpClientListener::maintain(std::chrono::steady_clock::time_point now) {
  if (now >= next_silence_check_) {
    next_silence_check_ = now + std::chrono::seconds(1);
    close_silent(now);
  }
  if (!accept_paused_ || now < accept_resume_at_) return;
  accept_paused_ = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenSerial;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
}

void TcpClientListener::close_silent(std::chrono::steady_clock::time_point now) {
  const auto timeout = std::chrono::milliseconds(options_.silence_timeout_ms);
  now_ = now;
  silent_.clear();
  for (const auto& [serial, conn] : conns_) {
    if (!conn->dead && now - conn->last_received > timeout) silent_.push_back(serial);
  }
  for (uint64_t serial : silent_) {
    auto it = conns_.find(serial);
    if (it == conns_.end()) continue;
    // What it sent last may still wait in the kernel (this thread was busy):
    // read it first.
    read(*it->second);
    it = conns_.find(serial);
    if (it == conns_.end() || it->second->dead || now - it->second->last_received <= timeout) continue;
    ++stats_.closed_silent;
    kill(*it->second);
  }
}

void TcpClientListener::keep_write_watch(Conn& conn) {
  if (conn.dead || conn.stream->wants_write() == conn.watching_write) return;
  conn.watching_write = conn.stream->wants_write();
  epoll_event ev{};
  ev.events = EPOLLIN | (conn.watching_write ? EPOLLOUT : 0u);
  ev.data.u64 = conn.serial;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.stream->fd(), &ev);
}

void TcpClientListener::kill(Conn& conn) {
  if (conn.dead) return;
  conn.dead = true;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.stream->fd(), nullptr);
  queued_total_ -= static_cast<int64_t>(conn.stream->queued_bytes());
  ::shutdown(conn.stream->fd(), SHUT_RDWR);
  if (!conn.in_ready) forget(conn.serial);
}

void TcpClientListener::forget(uint64_t serial) {
  auto it = conns_.find(serial);
  if (it == conns_.end()) return;
  if (!it->second->dead) queued_total_ -= static_cast<int64_t>(it->second->stream->queued_bytes());
  conns_.erase(it);  // the stream's destructor lowers the counts of what it still held
}

void TcpClientListener::read(Conn& conn) {
  const uint64_t before = conn.stream->bytes_read();
  const FrameReadResult r = conn.stream->read_some();
  if (conn.stream->bytes_read() != before) conn.last_received = std::max(now_, conn.last_received);
  if (r == FrameReadResult::kTooLarge) ++stats_.dropped_malformed;
  if (conn.stream->frames_ready() > 0 && !conn.in_ready) {
    conn.in_ready = true;
    ready_.push_back(conn.serial);
  }
  if (r != FrameReadResult::kOk) kill(conn);  // frames already read are still delivered
}

void TcpClientListener::on_event(Conn& conn, uint32_t events) {
  if (events & EPOLLOUT) {
    const size_t before = conn.stream->queued_bytes();
    const bool ok = conn.stream->flush();
    queued_total_ += static_cast<int64_t>(conn.stream->queued_bytes()) - static_cast<int64_t>(before);
    if (!ok) {
      kill(conn);
      return;
    }
    keep_write_watch(conn);
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read(conn);
}

size_t TcpClientListener::receive(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out) {
  now_ = std::chrono::steady_clock::now();
  epoll_event events[kMaxEventsPerWait];
  events_left_ = false;
  for (int round = 0; round < kMaxWaitRounds; ++round) {
    const int n = ::epoll_wait(epoll_fd_, events, static_cast<int>(kMaxEventsPerWait), 0);
    for (int i = 0; i < n; ++i) {
      const uint64_t serial = events[i].data.u64;
      if (serial == kListenSerial) {
        accept_all();
      } else if (auto it = conns_.find(serial); it != conns_.end() && !it->second->dead) {
        on_event(*it->second, events[i].events);
      }
    }
    if (n < static_cast<int>(kMaxEventsPerWait)) break;
    events_left_ = round + 1 == kMaxWaitRounds;
  }
  const size_t count = deliver(max_requests, max_bytes, out);
  drained_ = ready_.empty() && !events_left_;
  return count;
}

size_t TcpClientListener::deliver(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out) {
  size_t count = 0;
  size_t bytes = 0;
  // One frame per connection per pass, so that one busy client cannot
  // starve the others.
  while (!ready_.empty() && count < max_requests && bytes < max_bytes) {
    const uint64_t serial = ready_.front();
    ready_.pop_front();
    auto it = conns_.find(serial);
    if (it == conns_.end()) continue;
    Conn& conn = *it->second;
    if (conn.stream->next_frame(scratch_)) {
      if (scratch_.empty()) {
        if (!conn.dead) (void)send(tcp_connection_id(serial), std::string_view());  // heartbeat
      } else {
        ClientRequest& req = out.emplace_back();
        req.connection = tcp_connection_id(serial);
        req.wire_bytes = scratch_.size();
        if (scratch_.size() > options_.max_kept_request_bytes) scratch_.resize(std::min(scratch_.size(), kKeptPrefixBytes));
        req.payload = std::move(scratch_);
        scratch_.clear();
        bytes += req.payload.size();
        ++stats_.received;
        ++count;
      }
    }
    if (conn.stream->frames_ready() > 0) {
      ready_.push_back(serial);
      continue;
    }
    conn.in_ready = false;
    if (conn.dead) {
      forget(serial);
    } else if (!conn.stream->failed()) {
      // It stopped reading at its bound: what the kernel holds comes next.
      read(conn);
    }
  }
  return count;
}

TcpClientListener::Conn* TcpClientListener::find(const ConnectionId& connection) {
  auto it = conns_.find(tcp_connection_serial(connection));
  if (it == conns_.end() || it->second->dead) return nullptr;
  return it->second.get();
}

ClientSendResult TcpClientListener::after_send(Conn& conn, FrameSendResult result, size_t queued_before) {
  queued_total_ += static_cast<int64_t>(conn.stream->queued_bytes()) - static_cast<int64_t>(queued_before);
  switch (result) {
    case FrameSendResult::kSent:
      ++stats_.sent;
      if (!conn.held) keep_write_watch(conn);
      return ClientSendResult::kSent;
    case FrameSendResult::kBackpressure:
      return ClientSendResult::kBackpressure;
    case FrameSendResult::kFailed:
      kill(conn);
      return ClientSendResult::kGone;
  }
  return ClientSendResult::kGone;
}

void TcpClientListener::hold(Conn& conn) {
  if (!holding_ || conn.held) return;
  conn.held = true;
  conn.stream->set_held(true);
  held_.push_back(conn.serial);
}

void TcpClientListener::release_writes() {
  holding_ = false;
  for (uint64_t serial : held_) {
    auto it = conns_.find(serial);
    if (it == conns_.end() || it->second->dead) continue;
    Conn& conn = *it->second;
    conn.held = false;
    conn.stream->set_held(false);
    const size_t before = conn.stream->queued_bytes();
    const bool ok = conn.stream->flush();
    queued_total_ += static_cast<int64_t>(conn.stream->queued_bytes()) - static_cast<int64_t>(before);
    if (!ok) {
      kill(conn);
      continue;
    }
    keep_write_watch(conn);
  }
  held_.clear();
}

ClientSendResult TcpClientListener::send(const ConnectionId& connection, std::string_view bytes) {
  Conn* conn = find(connection);
  if (conn == nullptr) return ClientSendResult::kGone;
  hold(*conn);
  const size_t before = conn->stream->queued_bytes();
  return after_send(*conn, conn->stream->send(bytes), before);
}

ClientSendResult TcpClientListener::send_counted(const ConnectionId& connection, std::string& bytes,
                                                 const QueuedBytes& queued) {
  Conn* conn = find(connection);
  if (conn == nullptr) return ClientSendResult::kGone;
  hold(*conn);
  const size_t before = conn->stream->queued_bytes();
  std::string taken = std::move(bytes);
  const FrameSendResult r = conn->stream->send(std::move(taken), queued);
  if (r == FrameSendResult::kBackpressure) bytes = std::move(taken);  // not consumed
  return after_send(*conn, r, before);
}

}  // namespace corral::net
