// Lease grants for the batch tests: one per key under a prefix.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/types.h"

namespace corral::integration {

// Grants `first` .. `first + n - 1` of `ttl_seconds`, grant i with the key
// `prefix` + i (value "up").
inline std::vector<client::LeaseGrantRequest> grants_under(const std::string& prefix, int first, int n,
                                                           int64_t ttl_seconds) {
  std::vector<client::LeaseGrantRequest> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = first; i < first + n; ++i) {
    out.push_back(client::LeaseGrantRequest{ttl_seconds, 0, {{prefix + std::to_string(i), "up"}}});
  }
  return out;
}

}  // namespace corral::integration
