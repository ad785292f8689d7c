#include "tests/fault/delay_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <stdexcept>
#include <string>
#include <vector>

namespace corral::fault {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kMaxPollWait = std::chrono::milliseconds(50);

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Chunk {
  Clock::time_point release;
  std::string bytes;
  size_t sent = 0;
};

// One direction of a proxied connection.
struct Pipe {
  int from = -1;
  int to = -1;
  std::deque<Chunk> held;
  size_t held_bytes = 0;
  Clock::time_point last_release{};
  bool eof = false;       // `from` has no more bytes
  bool shut = false;      // eof passed on to `to`
  bool blocked = false;   // `to` would block: wait for POLLOUT

  bool can_read() const { return !eof && held_bytes < DelayProxy::kMaxHeldBytes; }
  bool done() const { return shut; }
};

struct Connection {
  int client = -1;
  int upstream = -1;
  Pipe up;    // client -> upstream
  Pipe down;  // upstream -> client
  bool broken = false;
};

// Reads what `p.from` has into a held chunk. False when the connection broke.
bool read_into(Pipe& p, Clock::duration delay, Clock::time_point now) {
  std::string buf(kReadChunk, '\0');
  const ssize_t n = ::recv(p.from, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n > 0) {
    buf.resize(static_cast<size_t>(n));
    // Never ahead of the chunk before it: TCP keeps its order.
    const Clock::time_point release = std::max(now + delay, p.last_release);
    p.last_release = release;
    p.held_bytes += buf.size();
    p.held.push_back(Chunk{release, std::move(buf), 0});
    return true;
  }
  if (n == 0) {
    p.eof = true;
    return true;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Sends every chunk whose time has come. False when the connection broke.
bool release_due(Pipe& p, Clock::time_point now, std::atomic<uint64_t>& forwarded) {
  p.blocked = false;
  while (!p.held.empty() && p.held.front().release <= now) {
    Chunk& c = p.held.front();
    const ssize_t n = ::send(p.to, c.bytes.data() + c.sent, c.bytes.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        p.blocked = true;
        return true;
      }
      return false;
    }
    c.sent += static_cast<size_t>(n);
    if (c.sent < c.bytes.size()) {
      p.blocked = true;
      return true;
    }
    p.held_bytes -= c.bytes.size();
    p.held.pop_front();
    forwarded.fetch_add(1);
  }
  if (p.eof && p.held.empty() && !p.shut) {
    ::shutdown(p.to, SHUT_WR);
    p.shut = true;
  }
  return true;
}

}  // namespace

DelayProxy::DelayProxy(int listen_port, int target_port, uint64_t seed) : target_port_(target_port), rng_(seed) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(listen_port);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    const std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("delay proxy on port " + std::to_string(listen_port) + ": " + why);
  }
  set_nonblocking(listen_fd_);
  thread_ = std::thread([this] { run(); });
}

DelayProxy::~DelayProxy() {
  stop_.store(true);
  const char b = 1;
  (void)!::write(wake_fds_[1], &b, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void DelayProxy::set_delay(std::chrono::milliseconds base, std::chrono::milliseconds jitter) {
  std::lock_guard lock(mu_);
  base_ = base;
  jitter_ = jitter;
}

Clock::duration DelayProxy::next_delay() {
  std::lock_guard lock(mu_);
  const auto jitter_us = std::chrono::duration_cast<std::chrono::microseconds>(jitter_).count();
  const int64_t extra = jitter_us > 0 ? static_cast<int64_t>(rng_() % static_cast<uint64_t>(jitter_us + 1)) : 0;
  return base_ + std::chrono::microseconds(extra);
}

void DelayProxy::run() {
  std::list<Connection> conns;
  auto close_connection = [](Connection& c) {
    ::close(c.client);
    ::close(c.upstream);
  };
  while (!stop_.load()) {
    const Clock::time_point now = Clock::now();
    // Wake at the next release, or soon enough to notice stop_.
    Clock::time_point wake = now + kMaxPollWait;
    for (const Connection& c : conns) {
      for (const Pipe* p : {&c.up, &c.down}) {
        if (!p->held.empty() && !p->blocked) wake = std::min(wake, p->held.front().release);
      }
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_fds_[0], POLLIN, 0});
    fds.push_back({listen_fd_, static_cast<short>(conns.size() < kMaxConnections ? POLLIN : 0), 0});
    for (const Connection& c : conns) {
      fds.push_back({c.client, static_cast<short>((c.up.can_read() ? POLLIN : 0) | (c.down.blocked ? POLLOUT : 0)), 0});
      fds.push_back({c.upstream, static_cast<short>((c.down.can_read() ? POLLIN : 0) | (c.up.blocked ? POLLOUT : 0)), 0});
    }
    const auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - now, Clock::duration::zero()));
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait_ms.count())) < 0 && errno != EINTR) break;
    const Clock::time_point after = Clock::now();

    if (fds[1].revents & POLLIN) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        accepted_.fetch_add(1);
        const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = loopback(target_port_);
        // Loopback: a refused connect is immediate, so a blocking connect is fine.
        if (up >= 0 && ::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          set_nonblocking(up);
          const int one = 1;
          ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          Connection c;
          c.client = fd;
          c.upstream = up;
          c.up.from = fd;
          c.up.to = up;
          c.down.from = up;
          c.down.to = fd;
          conns.push_back(std::move(c));
        } else {
          if (up >= 0) ::close(up);
          ::close(fd);
        }
      }
    }
    size_t i = 2;
    for (Connection& c : conns) {
      if (i + 1 >= fds.size()) break;  // accepted during this turn: not polled yet
      const short client_ev = fds[i++].revents;
      const short upstream_ev = fds[i++].revents;
      if ((client_ev & (POLLIN | POLLHUP | POLLERR)) && c.up.can_read()) c.broken |= !read_into(c.up, next_delay(), after);
      if ((upstream_ev & (POLLIN | POLLHUP | POLLERR)) && c.down.can_read()) {
        c.broken |= !read_into(c.down, next_delay(), after);
      }
    }
    for (auto it = conns.begin(); it != conns.end();) {
      Connection& c = *it;
      c.broken |= !release_due(c.up, after, forwarded_);
      c.broken |= !release_due(c.down, after, forwarded_);
      if (c.broken || (c.up.done() && c.down.done())) {
        close_connection(c);
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Connection& c : conns) close_connection(c);
}

}  // namespace corral::fault
