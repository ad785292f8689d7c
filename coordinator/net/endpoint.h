// Member and client endpoints: parsed once, normalised, handed to ZeroMQ.
//
// Accepted text (the scheme is optional, only tcp exists):
//   [tcp://]IPV4:PORT        e.g. 127.0.0.1:2380, tcp://10.0.0.7:2380
//   [tcp://][IPV6]:PORT      e.g. [::1]:2380
//   [tcp://]localhost:PORT   normalised to 127.0.0.1 (no DNS in net/: a
//                            member address must not change under our feet)
// PORT is decimal 1..65535; 0 (ephemeral) only for an endpoint we bind, so
// that tests can bind tcp://127.0.0.1:0 and read the real port back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::net {

enum class EndpointUse : uint8_t {
  kBind,     // port 0 allowed: the kernel picks one
  kConnect,  // port must be 1..65535
};

struct Endpoint {
  std::string host;  // canonical numeric form, IPv6 without brackets
  uint16_t port = 0;
  bool ipv6 = false;

  // "127.0.0.1:2380" or "[::1]:2380".
  std::string host_port() const;
  // "tcp://127.0.0.1:2380" or "tcp://[::1]:2380": what ZeroMQ takes.
  std::string to_zmq() const { return "tcp://" + host_port(); }
  bool operator==(const Endpoint&) const = default;
};

inline constexpr uint32_t kMaxPortNumber = 65535;
// Longer text is never a valid endpoint; bounds the work done on garbage.
inline constexpr size_t kMaxEndpointTextBytes = 128;

// Garbage gets kBadRequest with a message naming what was wrong.
Result<Endpoint> parse_endpoint(std::string_view text, EndpointUse use);

}  // namespace corral::net
