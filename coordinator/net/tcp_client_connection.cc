#include "coordinator/net/tcp_client_connection.h"

#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "coordinator/net/tcp_socket.h"

namespace corral::net {
namespace {

constexpr int kMaxEventsPerPump = 4;
// A reply frame's bound when the options set none: the frame header's.
constexpr size_t kMaxFrameBytes = UINT32_MAX;

}  // namespace

TcpClientConnection::TcpClientConnection(const ClientConnectionOptions& options, int epoll_fd)
    : ClientConnection(ClientWire::kTcp), options_(options), epoll_fd_(epoll_fd) {}

TcpClientConnection::~TcpClientConnection() {
  stream_.reset();
  ::close(epoll_fd_);
}

Result<std::unique_ptr<TcpClientConnection>> TcpClientConnection::create(const ClientConnectionOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.error();
  if (options.curve) return make_error(ErrorCode::kBadRequest, "client connection: the tcp wire has no CURVE");
  Result<Endpoint> endpoint = parse_endpoint(options.endpoint, EndpointUse::kConnect);
  if (!endpoint.ok()) return endpoint.error();
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!endpoint_to_sockaddr(*endpoint, addr, len)) {
    return make_error(ErrorCode::kBadRequest, "client connection: not a numeric address: " + options.endpoint);
  }
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return make_error(ErrorCode::kUnavailable, errno_text("epoll_create1"));
  std::unique_ptr<TcpClientConnection> c(new TcpClientConnection(options, ep));
  c->endpoint_ = *endpoint;
  c->backoff_ms_ = options.reconnect_interval_ms;
  c->connect(Clock::now());
  return c;
}

FrameStreamLimits TcpClientConnection::stream_limits() const {
  FrameStreamLimits l;
  l.max_frame_bytes = options_.max_reply_bytes < 0 ? kMaxFrameBytes : static_cast<size_t>(options_.max_reply_bytes);
  l.max_queued_frames = static_cast<size_t>(options_.max_queued_requests);
  l.max_queued_bytes = kMaxPendingRequestBytes;
  l.max_read_frames = static_cast<size_t>(options_.max_queued_replies);
  return l;
}

void TcpClientConnection::connect(Clock::time_point now) {
  attempt_started_ = now;
  const int fd = tcp_connect_start(endpoint_);
  if (fd < 0) {
    // Refused at once (or no socket): tried again after the backoff.
    state_ = State::kConnecting;
    drop(ConnectionEvent::kRefused, now);
    return;
  }
  stream_ = std::make_unique<FrameStream>(fd, stream_limits());
  stream_->set_held(held_);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  watching_write_ = true;
  state_ = State::kConnecting;
}

void TcpClientConnection::came_up(Clock::time_point now) {
  state_ = State::kUp;
  up_since_ = now;
  last_received_ = now;
  last_ping_ = now;
  bytes_read_at_check_ = 0;
  events_.push_back(ConnectionEvent::kConnected);
  if (!send_pending()) {
    drop(ConnectionEvent::kClosed, now);
    return;
  }
  keep_write_watch();
}

bool TcpClientConnection::send_pending() {
  while (!pending_.empty()) {
    const FrameSendResult r = stream_->send(pending_.front());
    if (r == FrameSendResult::kFailed) return false;
    if (r == FrameSendResult::kBackpressure) return true;  // the rest waits for room
    pending_bytes_ -= pending_.front().size();
    pending_.pop_front();
  }
  return true;
}

void TcpClientConnection::drop(ConnectionEvent event, Clock::time_point now) {
  const bool lived = state_ == State::kUp && now - up_since_ >= std::chrono::milliseconds(options_.heartbeat_interval_ms);
  if (stream_) {
    // Replies that came before the break still count.
    std::string frame;
    while (stream_->next_frame(frame)) {
      if (!frame.empty()) orphans_.push_back(std::move(frame));
    }
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stream_->fd(), nullptr);
    stream_.reset();
  }
  watching_write_ = false;
  events_.push_back(event);
  state_ = State::kIdle;
  if (lived) {
    // A member that restarted is tried again at once.
    backoff_ms_ = options_.reconnect_interval_ms;
    next_attempt_ = now;
  } else {
    next_attempt_ = now + std::chrono::milliseconds(backoff_ms_);
    backoff_ms_ = std::min(backoff_ms_ * 2, options_.reconnect_interval_max_ms);
  }
}

void TcpClientConnection::keep_write_watch() {
  if (!stream_ || state_ != State::kUp) return;
  const bool want = stream_->wants_write() || !pending_.empty();
  if (want == watching_write_) return;
  watching_write_ = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, stream_->fd(), &ev);
}

void TcpClientConnection::on_socket(uint32_t events, Clock::time_point now) {
  if (state_ == State::kConnecting) {
    if (tcp_connect_error(stream_->fd()) != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      drop(ConnectionEvent::kRefused, now);
      return;
    }
    if (events & EPOLLOUT) came_up(now);
    return;
  }
  if (events & EPOLLOUT) {
    if (!stream_->flush() || !send_pending()) {
      drop(ConnectionEvent::kClosed, now);
      return;
    }
    keep_write_watch();
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    const FrameReadResult r = stream_->read_some();
    if (r != FrameReadResult::kOk) drop(ConnectionEvent::kClosed, now);
  }
}

void TcpClientConnection::pump(Clock::time_point now) {
  epoll_event events[kMaxEventsPerPump];
  const int n = ::epoll_wait(epoll_fd_, events, kMaxEventsPerPump, 0);
  // One socket at a time: every event is about the current one.
  for (int i = 0; i < n && stream_; ++i) on_socket(events[i].events, now);
  maintain(now);
}

void TcpClientConnection::maintain(Clock::time_point now) {
  const auto interval = std::chrono::milliseconds(options_.heartbeat_interval_ms);
  const auto timeout = std::chrono::milliseconds(options_.heartbeat_timeout_ms);
  switch (state_) {
    case State::kIdle:
      if (now >= next_attempt_) connect(now);
      break;
    case State::kConnecting:
      if (now - attempt_started_ > timeout) drop(ConnectionEvent::kRefused, now);
      break;
    case State::kUp:
      if (stream_->bytes_read() != bytes_read_at_check_) {
        bytes_read_at_check_ = stream_->bytes_read();
        last_received_ = now;
      }
      if (now - last_received_ > timeout) {
        drop(ConnectionEvent::kClosed, now);
      } else if (now - last_ping_ >= interval) {
        last_ping_ = now;
        if (stream_->send(std::string_view()) == FrameSendResult::kFailed) {
          drop(ConnectionEvent::kClosed, now);
        } else {
          keep_write_watch();
        }
      }
      break;
  }
}

TcpClientConnection::Clock::time_point TcpClientConnection::next_due() const {
  const auto interval = std::chrono::milliseconds(options_.heartbeat_interval_ms);
  const auto timeout = std::chrono::milliseconds(options_.heartbeat_timeout_ms);
  switch (state_) {
    case State::kIdle: return next_attempt_;
    case State::kConnecting: return attempt_started_ + timeout;
    case State::kUp: return std::min(last_ping_ + interval, last_received_ + timeout);
  }
  return Clock::time_point::max();
}

void TcpClientConnection::hold_writes() {
  held_ = true;
  if (stream_) stream_->set_held(true);
}

void TcpClientConnection::release_writes() {
  held_ = false;
  if (!stream_) return;
  stream_->set_held(false);
  if (state_ != State::kUp) return;
  if (!stream_->flush() || !send_pending()) {
    drop(ConnectionEvent::kClosed, Clock::now());
    return;
  }
  keep_write_watch();
}

std::vector<ConnectionEvent> TcpClientConnection::take_events() {
  std::vector<ConnectionEvent> out;
  out.swap(events_);
  return out;
}

bool TcpClientConnection::holds_input() const {
  return !orphans_.empty() || (stream_ && stream_->frames_ready() > 0);
}

bool TcpClientConnection::take_frame(std::string& out) {
  if (!orphans_.empty()) {
    out = std::move(orphans_.front());
    orphans_.pop_front();
    return true;
  }
  while (stream_ && stream_->next_frame(out)) {
    if (!out.empty()) return true;  // an empty one is a heartbeat's answer
  }
  return false;
}

ClientSendResult TcpClientConnection::send(std::string_view bytes) {
  if (state_ == State::kUp && pending_.empty()) {
    const FrameSendResult r = stream_->send(bytes);
    if (r == FrameSendResult::kSent) {
      keep_write_watch();
      return ClientSendResult::kSent;
    }
    if (r == FrameSendResult::kBackpressure) return ClientSendResult::kBackpressure;
    // Failed before writing any of it: it waits for the next connection.
    drop(ConnectionEvent::kClosed, Clock::now());
  }
  if (pending_.size() >= static_cast<size_t>(options_.max_queued_requests) ||
      pending_bytes_ + bytes.size() > kMaxPendingRequestBytes) {
    return ClientSendResult::kBackpressure;
  }
  pending_.emplace_back(bytes);
  pending_bytes_ += bytes.size();
  keep_write_watch();
  return ClientSendResult::kSent;
}

std::optional<std::string> TcpClientConnection::try_receive() {
  std::string frame;
  if (take_frame(frame)) return frame;
  pump(Clock::now());
  if (take_frame(frame)) return frame;
  return std::nullopt;
}

Result<std::string> TcpClientConnection::receive(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (std::optional<std::string> reply = try_receive()) return std::move(*reply);
    const auto now = Clock::now();
    if (now >= deadline) break;
    const auto until = std::min(deadline, std::max(now, next_due()));
    // Rounded up: waking before the deadline would end the wait early.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    pollfd p{epoll_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
  }
  return make_error(ErrorCode::kUnavailable, "no reply from " + endpoint_.to_zmq() + " within " +
                                                 std::to_string(timeout.count()) + " ms");
}

}  // namespace corral::net
