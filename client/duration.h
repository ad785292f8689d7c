// Durations written the way Go's flag package (and etcd's tools) write them:
// "10s", "500ms", "1m30s", "2h", "250us"; a bare number is seconds. Used by
// corralctl and corral-bench so that their flags read like etcdctl's.
#pragma once

#include <chrono>
#include <string_view>

#include "client/error.h"

namespace corral::client {

// Longer text is never a duration we accept.
inline constexpr size_t kMaxDurationTextBytes = 64;

// kBadRequest naming the problem for anything else (negative, no unit
// between parts, overflow past a day's worth of hours * 10^4).
Result<std::chrono::microseconds> parse_duration(std::string_view text);

}  // namespace corral::client
