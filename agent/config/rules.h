// The value rules the agent's configuration checks, the same as the key
// space's (schema/records.md): ids are 1..128 bytes of [A-Za-z0-9._-], a
// machine ip 1..64 bytes of [0-9A-Za-z.:-].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::agent::config {

inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxMachineIpBytes = 64;
inline constexpr size_t kMaxHostBytes = 256;

bool valid_id(std::string_view id);
bool valid_machine_ip(std::string_view ip);

// An id made from any text (a host name): invalid bytes become '-', cut to
// kMaxIdBytes; "agent" if nothing is left.
std::string sanitize_id(std::string_view text);

struct TcpEndpoint {
  std::string host;
  uint16_t port = 0;
};

// "tcp://HOST:PORT" with a non-empty HOST (a name, an IPv4, or [IPv6]) and
// PORT 1..65535; nullopt otherwise.
std::optional<TcpEndpoint> parse_tcp_endpoint(std::string_view endpoint);

// This machine's host name ("" if gethostname fails).
std::string local_hostname();

}  // namespace corral::agent::config
