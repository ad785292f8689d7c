// Cap'n Proto reads whole 8-byte words at aligned addresses; stored values,
// raft entries and ZeroMQ frames are neither. The one place that copies such
// bytes into words.
#pragma once

#include <cstring>
#include <optional>
#include <string_view>

#include <capnp/common.h>
#include <kj/array.h>

namespace corral::schema {

// A word-aligned copy of `bytes`; nullopt when they are empty or not a whole
// number of words (a truncated or foreign message).
inline std::optional<kj::Array<capnp::word>> aligned_words(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) return std::nullopt;
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  return words;
}

}  // namespace corral::schema
