#include "coordinator/net/poller.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace corral::net {

Result<std::unique_ptr<Poller>> Poller::create() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return make_error(ErrorCode::kUnavailable, std::string("eventfd: ") + std::strerror(errno));
  }
  return std::unique_ptr<Poller>(new Poller(fd));
}

Poller::Poller(int event_fd) : event_fd_(event_fd) {}

Poller::~Poller() { ::close(event_fd_); }

size_t Poller::add(zmq::socket_ref socket, Tracking tracking) {
  Watched w;
  w.socket = socket.handle();
  w.fd = socket.get(zmq::sockopt::fd);
  w.tracking = tracking;
  return place(w);
}

size_t Poller::add_fd(int fd) {
  Watched w;
  w.fd = fd;
  w.plain = true;
  w.tracking = Tracking::kOwnerReportsUse;
  w.may_hold_unannounced = false;
  return place(w);
}

size_t Poller::place(const Watched& w) {
  for (size_t slot = 0; slot < watched_.size(); ++slot) {
    if (!watched_[slot].in_use()) {
      watched_[slot] = w;
      return slot;
    }
  }
  watched_.push_back(w);
  return watched_.size() - 1;
}

Status Poller::remove(size_t slot) {
  if (slot >= watched_.size() || !watched_[slot].in_use()) {
    return make_error(ErrorCode::kNotFound, "poller: slot " + std::to_string(slot) + " not in use");
  }
  watched_[slot] = Watched{};
  return {};
}

void Poller::used(size_t slot) {
  if (slot < watched_.size()) watched_[slot].may_hold_unannounced = true;
}

void Poller::drained(size_t slot) {
  // The EAGAIN receive emptied the socket's command mailbox: its fd
  // signals the next message.
  if (slot < watched_.size() && watched_[slot].tracking == Tracking::kOwnerReportsUse) {
    watched_[slot].may_hold_unannounced = false;
  }
}

void Poller::wake() {
  const uint64_t one = 1;
  // EAGAIN means the counter is already huge: a wake-up is pending anyway.
  [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

bool Poller::check(size_t slot, PollResult& out) {
  Watched& w = watched_[slot];
  if (w.plain) {
    // Asked before sleeping: only when its owner holds input; after a
    // poll(2), only when that said readable.
    out.readable.push_back(slot);
    return true;
  }
  int events = 0;
  size_t size = sizeof(events);
  if (zmq_getsockopt(w.socket, ZMQ_EVENTS, &events, &size) != 0) return errno != ETERM;
  if (events & ZMQ_POLLIN) {
    out.readable.push_back(slot);
    w.may_hold_unannounced = true;  // until its owner drains it
  } else if (w.tracking == Tracking::kOwnerReportsUse) {
    // The check itself emptied the mailbox: the fd announces what comes next.
    w.may_hold_unannounced = false;
  }
  return true;
}

Result<PollResult> Poller::wait(std::chrono::milliseconds timeout) {
  const auto terminated = [] { return make_error(ErrorCode::kUnavailable, "poller: context terminated"); };
  PollResult result;
  fds_.clear();
  fd_slots_.clear();
  fds_.push_back(pollfd{event_fd_, POLLIN, 0});
  for (size_t slot = 0; slot < watched_.size(); ++slot) {
    const Watched& w = watched_[slot];
    if (!w.in_use()) continue;
    if (w.tracking == Tracking::kCheckEveryWait || w.may_hold_unannounced) {
      if (!check(slot, result)) return terminated();
    }
    fds_.push_back(pollfd{w.fd, POLLIN, 0});
    fd_slots_.push_back(slot);
  }
  // Messages already waiting: no need to sleep (a pending wake() is
  // reported by the next wait).
  if (!result.readable.empty()) return result;
  const auto deadline = std::chrono::steady_clock::now() + std::max(timeout, std::chrono::milliseconds(0));
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int left_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    const int n = ::poll(fds_.data(), fds_.size(), left_ms);
    if (n < 0) return result;  // EINTR: nothing known yet; the caller loops
    if (fds_[0].revents & POLLIN) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t r = ::read(event_fd_, &count, sizeof(count));
      result.woken = true;
    }
    for (size_t i = 1; i < fds_.size(); ++i) {
      // A signalled ZMQ_FD says "look", not "readable": a command may
      // have been about sending or connecting.
      if (fds_[i].revents != 0 && !check(fd_slots_[i - 1], result)) return terminated();
      // (A plain fd's revents is POLLIN, or POLLERR/POLLHUP, which its
      // owner learns of by reading.)
    }
    if (result.woken || !result.readable.empty() || left_ms == 0) return result;
  }
}

}  // namespace corral::net
