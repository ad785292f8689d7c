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

size_t Poller::add(zmq::socket_ref socket) {
  for (size_t slot = 0; slot < sockets_.size(); ++slot) {
    if (sockets_[slot] == nullptr) {
      sockets_[slot] = socket.handle();
      return slot;
    }
  }
  sockets_.push_back(socket.handle());
  return sockets_.size() - 1;
}

Status Poller::remove(size_t slot) {
  if (slot >= sockets_.size() || sockets_[slot] == nullptr) {
    return make_error(ErrorCode::kNotFound, "poller: slot " + std::to_string(slot) + " not in use");
  }
  sockets_[slot] = nullptr;
  return {};
}

void Poller::wake() {
  const uint64_t one = 1;
  // EAGAIN means the counter is already huge: a wake-up is pending anyway.
  [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

Result<PollResult> Poller::wait(std::chrono::milliseconds timeout) {
  items_.clear();
  item_slots_.clear();
  items_.push_back(zmq_pollitem_t{nullptr, event_fd_, ZMQ_POLLIN, 0});
  for (size_t slot = 0; slot < sockets_.size(); ++slot) {
    if (sockets_[slot] == nullptr) continue;
    items_.push_back(zmq_pollitem_t{sockets_[slot], 0, ZMQ_POLLIN, 0});
    item_slots_.push_back(slot);
  }
  PollResult result;
  const long timeout_ms = timeout.count() < 0 ? 0 : static_cast<long>(timeout.count());
  if (zmq_poll(items_.data(), static_cast<int>(items_.size()), timeout_ms) < 0) {
    if (errno == ETERM) return make_error(ErrorCode::kUnavailable, "poller: context terminated");
    return result;  // EINTR: nothing known yet; the caller loops
  }
  if (items_[0].revents & ZMQ_POLLIN) {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(event_fd_, &count, sizeof(count));
    result.woken = true;
  }
  for (size_t i = 1; i < items_.size(); ++i) {
    if (items_[i].revents & ZMQ_POLLIN) result.readable.push_back(item_slots_[i - 1]);
  }
  return result;
}

}  // namespace corral::net
