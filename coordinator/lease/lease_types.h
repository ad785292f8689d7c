// Lease values and bounds shared by the lessor, its record format and its
// callers (kv apply, api).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "coordinator/kv/key_value.h"

namespace corral::lease {

using LeaseId = kv::LeaseId;  // > 0; 0 means "no lease"
// Milliseconds of a monotonic clock (steady_clock since any fixed epoch),
// passed in by the server: the lessor never reads a clock.
using Millis = int64_t;

// etcd has no upper bound but an absurd TTL is a lease that never dies.
inline constexpr int64_t kMaxTtlSeconds = 30LL * 24 * 3600;
// Shortest TTL granted; shorter requests are raised to it. It must outlast a
// leader election, or leases die in every failover (etcd: 1.5 elections).
inline constexpr int64_t kDefaultMinTtlSeconds = 2;
inline constexpr size_t kMaxLeases = 1'000'000;
inline constexpr size_t kMaxKeysPerLease = 100'000;
// An expired lease is reported again after this long if its revoke has not
// applied by then (the proposal was dropped), as etcd's 3 s retry.
inline constexpr Millis kExpiredRetryMs = 3'000;

struct LessorOptions {
  int64_t min_ttl_seconds = kDefaultMinTtlSeconds;
};

struct Lease {
  LeaseId id = 0;
  int64_t ttl_seconds = 0;     // as granted (after clamping)
  std::set<std::string> keys;  // attached keys, sorted
};

struct TimeToLive {
  LeaseId id = 0;
  int64_t granted_ttl_seconds = 0;
  // On the leader: time left before expiry (0 once expired). Elsewhere
  // nothing tracks deadlines, so it is the granted TTL (ask the leader).
  Millis remaining_ms = 0;
  std::vector<std::string> keys;  // sorted; empty unless asked for
};

}  // namespace corral::lease
