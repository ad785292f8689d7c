// Waiting helpers for net tests: every wait has a deadline, and the waiting
// is on a condition (socket readable, state reached), never a fixed sleep.
#pragma once

#include <zmq.h>

#include <chrono>
#include <functional>
#include <thread>
#include <zmq.hpp>

namespace corral::net::testing {

inline constexpr std::chrono::milliseconds kTestDeadline{10000};
inline constexpr std::chrono::milliseconds kRecheckInterval{1};

// Re-checks `condition` until it holds or the deadline passes. Used for
// state ZeroMQ changes in its own I/O thread, which has no fd to wait on.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = kTestDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kRecheckInterval);
  }
  return true;
}

// Blocks until `socket` is readable or `timeout` passes.
inline bool wait_readable(zmq::socket_ref socket, std::chrono::milliseconds timeout) {
  zmq_pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  return zmq_poll(&item, 1, static_cast<long>(timeout.count())) > 0 &&
         (item.revents & ZMQ_POLLIN);
}

}  // namespace corral::net::testing
