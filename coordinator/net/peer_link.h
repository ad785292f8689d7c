// Whether the connection to one peer is up, as PeerTransport knows it: from
// its socket monitor's events, and from the socket itself taking a message.
//
// Why both: libzmq (4.3) attaches a new connection's queue to the socket
// before its I/O thread emits HANDSHAKE_SUCCEEDED, so a send can be taken,
// and then refused at the queue bound, while the monitor still says "down";
// on a loaded machine that thread can be preempted in between for a while.
// With ZMQ_IMMEDIATE the socket takes messages only on a completed
// connection, so a message taken proves one, with one exception: the queue
// of a connection that just dropped. libzmq emits DISCONNECTED before it
// detaches that queue, and detaches it before it emits the CONNECT_RETRIED
// of its next attempt; so from DISCONNECTED until CONNECT_RETRIED (and a
// pass over the socket's commands, which the transport makes then) a
// message taken proves nothing. Without a next attempt (a protocol error
// ends the endpoint) the link stays down, the safe side.
#pragma once

namespace corral::net {

class PeerLink {
 public:
  // Handshakes failed in a row before a peer counts as refusing this
  // member's connections (PeerWireTrouble).
  static constexpr int kFailedHandshakesReported = 3;

  bool connected() const { return connected_; }

  void handshake_succeeded() {
    connected_ = true;
    failed_handshakes_ = 0;
  }
  // A connection ended before its handshake finished (libzmq's
  // HANDSHAKE_FAILED_* events): the peer speaks another wire, or refused us.
  void handshake_failed() { ++failed_handshakes_; }
  void disconnected() {
    if (connected_) lost_ = true;
    connected_ = false;
    old_queue_possible_ = true;
  }
  // The caller makes the socket process its pending commands before its
  // next send, so that the old queue is detached.
  void connect_retried() { old_queue_possible_ = false; }
  void message_taken() {
    if (!old_queue_possible_) connected_ = true;
  }

  // Whether an established connection dropped since the last call.
  bool take_lost() {
    const bool lost = lost_;
    lost_ = false;
    return lost;
  }
  // Whether kFailedHandshakesReported handshakes failed in a row since the
  // last success or the last time this said so.
  bool take_failing_handshakes() {
    if (failed_handshakes_ < kFailedHandshakesReported) return false;
    failed_handshakes_ = 0;
    return true;
  }

 private:
  bool connected_ = false;
  bool lost_ = false;
  bool old_queue_possible_ = false;
  int failed_handshakes_ = 0;
};

}  // namespace corral::net
