// The sockets net tests start with: a client listener, a client connected
// to it, and a peer transport, each on an ephemeral loopback port.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <utility>

#include "coordinator/net/zmq_client_connection.h"
#include "coordinator/net/zmq_client_listener.h"
#include "coordinator/net/zmq_peer_transport.h"

namespace corral::net::testing {

inline std::unique_ptr<ZmqClientListener> make_listener(zmq::context_t& ctx, ClientListenerOptions options = {}) {
  options.bind_endpoint = "tcp://127.0.0.1:0";
  auto l = ZmqClientListener::create(ctx, options);
  REQUIRE(l.ok());
  return std::move(l).value();
}

inline std::unique_ptr<ZmqClientConnection> make_client(zmq::context_t& ctx, const ClientListener& l,
                                                     ClientConnectionOptions options = {}) {
  options.endpoint = l.bound_endpoint().to_zmq();
  auto c = ZmqClientConnection::create(ctx, options);
  REQUIRE(c.ok());
  return std::move(c).value();
}

// On options.bind_endpoint when set, else on an ephemeral port.
inline std::unique_ptr<ZmqPeerTransport> make_transport(zmq::context_t& ctx, PeerId id,
                                                     PeerTransportOptions options = {}) {
  options.self_id = id;
  if (options.bind_endpoint.empty()) options.bind_endpoint = "tcp://127.0.0.1:0";
  auto t = ZmqPeerTransport::create(ctx, options);
  REQUIRE(t.ok());
  return std::move(t).value();
}

}  // namespace corral::net::testing
