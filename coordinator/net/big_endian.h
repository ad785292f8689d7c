// 8-byte big-endian integers inside byte strings: how a peer's node id and
// cluster id travel (a ZeroMQ routing id, a TCP hello).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::net {

// Writes `v` at out[at, at + 8); out must be long enough.
inline void put_u64_be(std::string& out, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) out[at + i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
}

// Reads in[at, at + 8); in must be long enough.
inline uint64_t get_u64_be(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

}  // namespace corral::net
