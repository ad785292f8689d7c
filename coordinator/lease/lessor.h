// Lessor: the lease table. Two halves with different rules:
//
// Replicated (grant, revoke, attach, detach, recover): called by the apply
// path in log order, deterministic, no clock. Changes to the table are staged
// into the caller's storage::WriteBatch (Space::kLease, format in
// lease_record.h) so they commit atomically with the kv revision and the
// applied index. revoke hands back the attached keys, sorted, for the caller
// to delete in the same revision.
//
// Leader-local (promote, demote, keepalive, expired, time_to_live): deadlines
// on this member's monotonic clock (Millis, passed in), never replicated.
// promote (became leader) gives every lease a full TTL from now, so a lease
// never expires early after a failover and never lives forever. Only the
// leader expires leases: expired() lists the leases to revoke, in batches;
// the server proposes a revoke for each through Raft. A lease granted while
// leader starts its TTL at the next time-taking call (keepalive, expired,
// time_to_live), never before it was granted.
//
// Not thread-safe: the server serialises calls.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/lease/expiry_tracker.h"
#include "coordinator/lease/lease_types.h"

namespace corral::storage {
class Engine;
class WriteBatch;
}  // namespace corral::storage

namespace corral::lease {

class Lessor {
 public:
  explicit Lessor(LessorOptions options = {});

  // Replicated half. `batch` may be null (tests, or state that need not be
  // stored); errors change nothing and stage nothing.

  // Grants a lease. id 0: an id derived deterministically from raft_index
  // (the index of the grant's entry), so every member picks the same one.
  // TTLs below the minimum are raised to it. Errors: kBadRequest (negative
  // id, id already exists), kTooLarge (ttl over kMaxTtlSeconds, table full).
  Result<LeaseId> grant(LeaseId id, int64_t ttl_seconds, uint64_t raft_index,
                        storage::WriteBatch* batch);
  // Removes the lease; returns its keys, sorted, for the caller to delete in
  // the same revision. kLeaseNotFound if unknown.
  Result<std::vector<std::string>> revoke(LeaseId id, storage::WriteBatch* batch);
  // A put carrying `id` made `key` belong to the lease (idempotent).
  // kLeaseNotFound if unknown, kTooLarge past kMaxKeysPerLease.
  Status attach(LeaseId id, std::string_view key);
  // `key` was deleted or overwritten without this lease. kLeaseNotFound,
  // kNotFound (key not attached).
  Status detach(LeaseId id, std::string_view key);

  // Loads every lease record of the engine into an empty lessor (start-up,
  // snapshot install). The caller then attaches keys from the kv index.
  // kStorage on a bad record; on error the lessor stays empty.
  Status recover(const storage::Engine& engine);

  const Lease* lookup(LeaseId id) const;
  std::vector<LeaseId> list() const;  // ascending
  size_t size() const { return leases_.size(); }

  // Leader-local half.
  void promote(Millis now);
  void demote();
  bool is_primary() const { return primary_; }
  // Restarts the lease's TTL; returns it in seconds. kNotLeader when not
  // primary; kLeaseNotFound if unknown or already expired (its revoke is
  // on the way, as etcd).
  Result<int64_t> keepalive(LeaseId id, Millis now);
  // Up to max_count leases past their deadline, earliest first. Each is
  // returned once; again only after kExpiredRetryMs if its revoke has not
  // applied by then. Empty when not primary.
  std::vector<LeaseId> expired(Millis now, size_t max_count);
  Result<TimeToLive> time_to_live(LeaseId id, Millis now, bool with_keys);

 private:
  LeaseId derive_id(uint64_t raft_index) const;
  void start_pending(Millis now);

  LessorOptions options_;
  std::map<LeaseId, Lease> leases_;
  bool primary_ = false;
  ExpiryTracker tracker_;
  std::vector<LeaseId> pending_start_;  // granted while primary, no deadline yet
};

}  // namespace corral::lease
