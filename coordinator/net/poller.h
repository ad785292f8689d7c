// Waits until one of a set of ZeroMQ sockets is readable, another thread
// calls wake(), or a timeout passes: how a server thread sleeps. The Poller
// itself belongs to that one thread; only wake() may be called from others.
// Wake-ups go through an eventfd: wake() is one write(2), and many wakes
// before the next wait() coalesce into one (the counter is reset on read).
//
// Why not zmq_poll: it asks every socket for ZMQ_EVENTS twice per wait and
// polls once with a zero timeout first; each ZMQ_EVENTS costs libzmq a
// getpid(2) and a poll(2). Here a socket's ZMQ_EVENTS is read only when its
// ZMQ_FD signalled, or before sleeping if it may hold messages its fd will
// not announce: a socket used since its last check (any send or receive can
// consume the fd's signal). See Tracking.
#pragma once

#include <poll.h>

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

// Who knows when a socket was used between two waits.
enum class Tracking {
  // Nobody: the socket is checked before every sleep (one ZMQ_EVENTS).
  kCheckEveryWait,
  // Its owner calls used(slot) after sending on it and drained(slot) when a
  // receive said EAGAIN; a slot wait() reports readable counts as used until
  // drained. An idle socket then costs nothing per wait.
  kOwnerReportsUse,
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
  size_t add(zmq::socket_ref socket, Tracking tracking = Tracking::kCheckEveryWait);
  // A plain file descriptor, readable when poll(2) says POLLIN. Its owner
  // calls used(slot) when it holds input already read from it (the slot is
  // then reported readable without sleeping) and drained(slot) when not.
  size_t add_fd(int fd);
  // kNotFound if the slot is not in use.
  Status remove(size_t slot);

  // kOwnerReportsUse sockets: see Tracking. Unknown slots are ignored.
  void used(size_t slot);
  void drained(size_t slot);

  // Thread-safe, never blocks.
  void wake();

  // timeout 0 only looks. An interrupted wait returns what is known.
  // kUnavailable if the ZeroMQ context is shutting down.
  Result<PollResult> wait(std::chrono::milliseconds timeout);

 private:
  struct Watched {
    void* socket = nullptr;  // nullptr with fd -1: a free slot
    int fd = -1;             // ZMQ_FD, or the plain fd
    Tracking tracking = Tracking::kCheckEveryWait;
    bool may_hold_unannounced = true;
    bool plain = false;  // a plain fd (add_fd), no ZeroMQ socket
    bool in_use() const { return socket != nullptr || plain; }
  };
  size_t place(const Watched& w);

  explicit Poller(int event_fd);
  // ZMQ_EVENTS of `slot`: adds it to `out` if readable. False on ETERM.
  bool check(size_t slot, PollResult& out);

  int event_fd_;
  std::vector<Watched> watched_;  // by slot
  std::vector<pollfd> fds_;       // [0]: event_fd_, then one per slot in use
  std::vector<size_t> fd_slots_;  // fds_[i + 1] belongs to slot fd_slots_[i]
};

}  // namespace corral::net
