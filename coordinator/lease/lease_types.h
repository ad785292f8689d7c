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
inline constexpr Millis kMaxRemainingMs = kMaxTtlSeconds * 1000;
// Floor of the TTL apply grants. It is a constant, so every member raises a
// grant the same way; the leader raises grants to min_ttl_seconds_for its
// election timeout before proposing them (server/lease_min_ttl.h).
inline constexpr int64_t kDefaultMinTtlSeconds = 1;

// The shortest useful TTL: a lease must outlast a leader election, or it
// dies in every failover. etcd's rule: 1.5 election timeouts, rounded up to
// whole seconds.
constexpr int64_t min_ttl_seconds_for(Millis election_timeout_ms) {
  const Millis ms = (3 * election_timeout_ms + 1) / 2;
  const int64_t seconds = (ms + 999) / 1000;
  return seconds < kDefaultMinTtlSeconds ? kDefaultMinTtlSeconds : seconds;
}

// Checkpoints (lessor.h). A lease is checkpointed max(this, TTL/2) after
// its last keep-alive (each keep-alive moves it), so under any leader churn
// it expires within TTL + that + one election of its last keep-alive (the
// grant is a checkpoint of the whole TTL, so a lease never kept alive
// expires within TTL + one election of its grant).
inline constexpr Millis kDefaultCheckpointIntervalMs = 5'000;
// Bounds of one checkpoint entry and of the rate of periodic ones
// (etcd: 1000 checkpoints a batch, 1000 a second).
inline constexpr size_t kMaxCheckpointsPerEntry = 1000;
inline constexpr size_t kMaxCheckpointEntryBytes = 64 * 1024;
inline constexpr Millis kMinCheckpointEntryGapMs = 100;
inline constexpr size_t kMaxLeases = 1'000'000;
inline constexpr size_t kMaxKeysPerLease = 100'000;
// An expired lease is reported again after this long if its revoke has not
// applied by then (the proposal was dropped), as etcd's 3 s retry.
inline constexpr Millis kExpiredRetryMs = 3'000;

struct LessorOptions {
  int64_t min_ttl_seconds = kDefaultMinTtlSeconds;
  Millis checkpoint_interval_ms = kDefaultCheckpointIntervalMs;
};

struct Lease {
  LeaseId id = 0;
  int64_t ttl_seconds = 0;     // as granted (after clamping)
  Millis remaining_ms = 0;     // last checkpoint (lease_record.h); 0: none
  std::set<std::string> keys;  // attached keys, sorted
};

// One remaining TTL in a checkpoint entry; remaining_ms 0 resets.
struct Checkpoint {
  LeaseId id = 0;
  Millis remaining_ms = 0;
  bool operator==(const Checkpoint&) const = default;
};

// What the leader proposes as one checkpoint entry.
struct CheckpointBatch {
  uint64_t sequence = 0;  // > 0, increasing within the leader's term
  std::vector<Checkpoint> checkpoints;
};

// A keep-alive the lessor accepted. When reset_needed, the lease has a
// checkpoint (applied or on its way) older than this renewal: the caller
// must commit a reset (a checkpoint of 0) before answering, or a new leader
// would expire the lease by that stale checkpoint.
struct KeepAliveGrant {
  int64_t ttl_seconds = 0;
  bool reset_needed = false;
};

struct TimeToLive {
  LeaseId id = 0;
  int64_t granted_ttl_seconds = 0;
  // On the leader: time left before expiry (0 once expired). Elsewhere:
  // what is left of the lease's last checkpoint, or the granted TTL when it
  // was kept alive since (ask the leader).
  Millis remaining_ms = 0;
  std::vector<std::string> keys;  // sorted; empty unless asked for
};

}  // namespace corral::lease
