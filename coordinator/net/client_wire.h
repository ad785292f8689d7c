// Which wire a client connection speaks to a member: plain TCP frames
// (frame_stream.h) or ZeroMQ (the one CURVE needs). Both ends of a
// connection must speak the same one.
#pragma once

#include <cstdint>

namespace corral::net {

enum class ClientWire : uint8_t {
  kAuto,  // ZeroMQ when CURVE is on, else TCP
  kTcp,
  kZmq,
};
// (parse_client_wire is in client_listener.h: this header stays free of
// net's error types, for the client library's public header.)
const char* client_wire_name(ClientWire wire);
// kAuto made definite: kZmq with CURVE, else kTcp.
ClientWire resolve_client_wire(ClientWire wire, bool curve);

}  // namespace corral::net
