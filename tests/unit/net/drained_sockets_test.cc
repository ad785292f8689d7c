// What the node loop relies on to skip ZeroMQ calls on idle sockets: a
// listener and a transport say whether their socket was last read down to
// EAGAIN, and a peer's connection events still arrive when its monitor is
// read only after its fd signalled.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/net/zmq_client_connection.h"
#include "coordinator/net/zmq_client_listener.h"
#include "coordinator/net/zmq_peer_transport.h"
#include "tests/unit/net/test_sockets.h"
#include "tests/unit/net/test_wait.h"

using ClientConnection = corral::net::ZmqClientConnection;
using corral::net::ClientConnectionOptions;
using ClientListener = corral::net::ZmqClientListener;
using corral::net::ClientListenerOptions;
using corral::net::ClientRequest;
using corral::net::ClientSendResult;
using corral::net::PeerId;
using corral::net::PeerMessage;
using corral::net::PeerSendResult;
using corral::net::ZmqPeerTransport;
using corral::net::PeerTransportOptions;
using corral::net::testing::make_client;
using corral::net::testing::make_listener;
using corral::net::testing::make_transport;
using corral::net::testing::wait_readable;
using corral::net::testing::wait_until;

TEST_CASE("client listener: drained only after a receive that found the socket empty", "[net][client]") {
  zmq::context_t ctx(1);
  auto listener = make_listener(ctx);
  CHECK_FALSE(listener->drained());  // never read: may hold anything

  auto client = make_client(ctx, *listener);
  for (int i = 0; i < 3; ++i) REQUIRE(client->send("r" + std::to_string(i)) == ClientSendResult::kSent);

  std::vector<ClientRequest> got;
  REQUIRE(wait_until([&] {
    wait_readable(listener->socket(), std::chrono::milliseconds(10));
    listener->receive(1, got);  // one at a time: stops at its limit
    return got.size() == 3;
  }));
  CHECK_FALSE(listener->drained());  // stopped at the limit, not at EAGAIN
  CHECK(listener->receive(8, got) == 0);
  CHECK(listener->drained());
  REQUIRE(listener->send(got[0].connection, "reply") == ClientSendResult::kSent);
  CHECK_FALSE(listener->drained());  // a send may take the fd's signal of a new request
  CHECK(listener->receive(8, got) == 0);
  CHECK(listener->drained());
}

TEST_CASE("peer transport: inbound_drained only after a receive that found the socket empty", "[net][peer]") {
  zmq::context_t ctx(1);
  auto a = make_transport(ctx, 1);
  auto b = make_transport(ctx, 2);
  REQUIRE(a->add_peer(2, b->bound_endpoint().to_zmq()).ok());
  CHECK_FALSE(b->inbound_drained());
  REQUIRE(wait_until([&] { return a->send(2, "m0") == PeerSendResult::kSent; }));
  REQUIRE(a->send(2, "m1") == PeerSendResult::kSent);
  std::vector<PeerMessage> got;
  REQUIRE(wait_until([&] {
    wait_readable(b->inbound_socket(), std::chrono::milliseconds(10));
    b->receive(1, got);
    return got.size() == 2;
  }));
  CHECK_FALSE(b->inbound_drained());
  CHECK(b->receive(8, got) == 0);
  CHECK(b->inbound_drained());
}

TEST_CASE("peer transport: a dropped connection is seen when only its monitor's fd is watched",
          "[net][peer]") {
  zmq::context_t ctx(1);
  PeerTransportOptions fast;
  fast.reconnect_interval_ms = 10;
  fast.reconnect_interval_max_ms = 50;
  auto a = make_transport(ctx, 1, fast);
  auto b_ctx = std::make_unique<zmq::context_t>(1);
  auto b = make_transport(*b_ctx, 2);
  REQUIRE(a->add_peer(2, b->bound_endpoint().to_zmq()).ok());
  REQUIRE(wait_until([&] { return a->send(2, "up") == PeerSendResult::kSent; }));
  // Only take_lost_connections from here on, each call after the first
  // reading the monitor only if its fd signalled (connected() and a failed
  // send read it unconditionally, and are not called).
  CHECK(a->take_lost_connections().empty());
  CHECK(a->take_lost_connections().empty());
  b.reset();
  b_ctx.reset();
  std::vector<PeerId> lost;
  CHECK(wait_until([&] {
    lost = a->take_lost_connections();
    return !lost.empty();
  }));
  CHECK(lost == std::vector<PeerId>{2});
  CHECK(a->take_lost_connections().empty());
}
