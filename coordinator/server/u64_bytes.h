// A u64 as 8 little-endian bytes: the read-index contexts the loop hands
// raft, and the cluster id stored in kv meta.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace corral::server {

inline std::string u64_bytes(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

inline uint64_t bytes_u64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

}  // namespace corral::server
