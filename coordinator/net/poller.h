// Waits until one of a set of ZeroMQ sockets is readable, another thread
// calls wake(), or a timeout passes: how a server thread sleeps. The Poller
// itself belongs to that one thread; only wake() may be called from others.
// Wake-ups go through an eventfd: wake() is one write(2), and many wakes
// before the next wait() coalesce into one (the counter is reset on read).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>
#include <zmq.hpp>

#include "coordinator/base/error.h"

namespace corral::net {

struct PollResult {
  std::vector<size_t> readable;  // slots (as returned by add) readable now
  bool woken = false;            // wake() was called since the last wait
};

class Poller {
 public:
  // kUnavailable if the eventfd cannot be made.
  static Result<std::unique_ptr<Poller>> create();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Returns the socket's slot. The socket must outlive the Poller or be
  // removed first.
  size_t add(zmq::socket_ref socket);
  // kNotFound if the slot is not in use.
  Status remove(size_t slot);

  // Thread-safe, never blocks.
  void wake();

  // timeout 0 only looks. An interrupted wait returns what is known.
  // kUnavailable if the ZeroMQ context is shutting down.
  Result<PollResult> wait(std::chrono::milliseconds timeout);

 private:
  explicit Poller(int event_fd);

  int event_fd_;
  std::vector<void*> sockets_;  // by slot; nullptr = free slot
  std::vector<zmq_pollitem_t> items_;
  std::vector<size_t> item_slots_;
};

}  // namespace corral::net
