#include "coordinator/net/peer_link.h"

#include <catch2/catch.hpp>

using corral::net::PeerLink;

// The event orders libzmq 4.3 produces (peer_link.h), replayed by hand: the
// race between its I/O thread and the socket is not something a test on
// sockets can set up at will.

TEST_CASE("peer link: a message taken before the handshake event means the link is up",
          "[net][peer]") {
  PeerLink link;
  CHECK_FALSE(link.connected());
  link.message_taken();  // the queue is attached, the event still on its way
  CHECK(link.connected());
  link.handshake_succeeded();
  CHECK(link.connected());
  CHECK_FALSE(link.take_lost());
  link.disconnected();
  CHECK_FALSE(link.connected());
  CHECK(link.take_lost());
  CHECK_FALSE(link.take_lost());  // once
}

TEST_CASE("peer link: the queue of a dropped connection proves nothing until the next attempt",
          "[net][peer]") {
  PeerLink link;
  link.handshake_succeeded();
  link.disconnected();
  link.message_taken();  // the old queue, not yet detached
  CHECK_FALSE(link.connected());
  link.connect_retried();  // detached before this was emitted
  CHECK_FALSE(link.connected());
  link.message_taken();  // so this is a new connection's queue
  CHECK(link.connected());
  CHECK(link.take_lost());  // the first connection's drop, once
  CHECK_FALSE(link.take_lost());
}

TEST_CASE("peer link: a connection known only from a message taken is lost when it drops",
          "[net][peer]") {
  PeerLink link;
  link.message_taken();
  link.disconnected();
  CHECK_FALSE(link.connected());
  CHECK(link.take_lost());
  // A handshake that failed: DISCONNECTED without HANDSHAKE_SUCCEEDED.
  link.connect_retried();
  link.disconnected();
  CHECK_FALSE(link.connected());
  CHECK_FALSE(link.take_lost());
  // A protocol error ends the endpoint: no attempt follows, the link stays down.
  link.message_taken();
  CHECK_FALSE(link.connected());
}

TEST_CASE("peer link: handshakes failing in a row are reported once per kFailedHandshakesReported, a success resets",
          "[net][peer]") {
  PeerLink link;
  for (int i = 1; i < PeerLink::kFailedHandshakesReported; ++i) {
    link.handshake_failed();
    CHECK_FALSE(link.take_failing_handshakes());
  }
  link.handshake_failed();
  CHECK(link.take_failing_handshakes());
  CHECK_FALSE(link.take_failing_handshakes());  // once
  // Two failures, a success, two more: never kFailedHandshakesReported in a row.
  link.handshake_failed();
  link.handshake_failed();
  link.handshake_succeeded();
  link.handshake_failed();
  link.handshake_failed();
  CHECK_FALSE(link.take_failing_handshakes());
  CHECK_FALSE(link.take_lost());  // failed handshakes are no lost connection
}
