// Socket settings shared by every net/ socket: CURVE keys, binding with the
// real endpoint read back, and the options each socket kind always sets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/net/endpoint.h"

namespace corral::net {

// A CURVE key pair in Z85 text (40 characters each), as zmq_curve_keypair
// makes them. Keys are not secrets net/ stores: callers load and pass them.
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

inline constexpr size_t kCurveKeyZ85Chars = 40;

// kUnavailable if libzmq was built without CURVE (libsodium).
Result<CurveKeyPair> generate_curve_keypair();
bool curve_available();

// Either side of an encrypted link. CURVE gives encryption and proves to
// the client that it talks to the holder of the server key. A CURVE server
// socket also names a ZAP domain (ZMQ_ZAP_DOMAIN): the ZAP handler of the
// process (server/zap_handler.h; a thread, which only server/ may own)
// decides per domain which client keys may connect and names them; without
// a handler libzmq lets every key in. Without keys, sockets speak plain ZMTP.
inline constexpr const char* kClientZapDomain = "corral-client";
inline constexpr const char* kPeerZapDomain = "corral-peer";
struct CurveServerKeys {
  CurveKeyPair own;
  std::string zap_domain;  // empty: none
};
struct CurveClientKeys {
  CurveKeyPair own;
  std::string server_public_key;
};

// ZeroMQ's options set the same way on every socket: ZMQ_LINGER 0 so that
// closing never waits for unsent messages (raft resends; clients retry).
void set_common_options(zmq::socket_t& socket);
Status set_curve_server(zmq::socket_t& socket, const CurveServerKeys& keys);
Status set_curve_client(zmq::socket_t& socket, const CurveClientKeys& keys);

// Binds `socket` to the endpoint and returns what it is really bound to
// (port 0 resolved via ZMQ_LAST_ENDPOINT). kUnavailable if the bind fails.
Result<Endpoint> bind_and_read_back(zmq::socket_t& socket, const Endpoint& endpoint);

// Connects (asynchronously: ZeroMQ connects and reconnects in the background).
Status connect_to(zmq::socket_t& socket, const Endpoint& endpoint);

}  // namespace corral::net
