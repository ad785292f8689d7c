// Lessor: the lease table. Two halves with different rules:
//
// Replicated (grant, revoke, attach, detach, checkpoint, recover): called by
// the apply path in log order, deterministic, no clock. Changes to the table
// are staged into the caller's storage::WriteBatch (Space::kLease, format in
// lease_record.h) so they commit atomically with the kv revision and the
// applied index. revoke hands back the attached keys, sorted, for the caller
// to delete in the same revision.
//
// Member-local and leader-local (stamp, promote, demote, keepalive, expired,
// time_to_live, checkpoint batches): times on this member's monotonic clock
// (Millis, passed in), never replicated.
//
// Checkpoints, as etcd's: deadlines live only on the leader, so the leader
// replicates a lease's remaining TTL from time to time. Every member counts a
// checkpoint down from when it applied it (stamp(), called right after each
// apply; a later stamp only makes the lease live longer, never shorter), and
// a new leader expires each lease at that point. The grant is a checkpoint of
// the whole TTL. A keep-alive on a lease with a checkpoint must reset it
// (a checkpoint of 0) before it is answered; a lease without one gets a whole
// TTL from the next leader's promotion.
//
// When a lease is checkpointed: I = checkpoint_interval_ms(ttl) =
// max(checkpoint_interval_ms, TTL/2) after its last keep-alive (each
// keep-alive moves it, checkpoint_schedule.h), and at once after a promotion
// that had to give it a whole TTL (unless a keep-alive moves it first). A
// holder that keeps its lease alive more often than I (the client does every
// TTL/3) is never checkpointed after its first reset: no replicated write.
// Why the bounds hold, with K the leader's renewal of the last answered
// keep-alive (or the grant) and E one election (leader lost to successor
// promoted):
//  - Never before K + TTL: the keep-alive was answered after any older
//    checkpoint was reset, so a new leader sees none (a whole TTL from its
//    promotion, which comes after the keep-alive arrived, lease_keepalives.h)
//    or one taken after K (deadline - now, counted from its apply, which is
//    later), ending no earlier than K + TTL.
//  - No later than K + TTL + I + E: the holder sends nothing more, so nothing
//    moves the lease's due time. The leader L1 that renewed it expires it at
//    K + TTL if it stays; if I < TTL it checkpoints it at K + I (TTL - I
//    left), and once that applied a new leader expires it at the countdown's
//    end, about K + TTL. If L1 is lost at D < K + I first, its successor L2
//    finds only the reset: a whole TTL from its promotion, before
//    K + I + E, and it checkpoints the lease at once, so a change after that
//    checkpoint applied extends nothing.
//  - What a chain can add: a leader lost before its promotion checkpoint of
//    the lease applied hands on the same "no checkpoint" state, and its
//    successor gives another TTL from its own promotion. Each such leader
//    adds its time in office, which is short by construction: the promotion
//    checkpoints go out at once, bounded only by the checkpoint rate (10,000
//    a second, lease_checkpointer.h: up to 10 s for 100k leases). The same
//    holds without a moving schedule (the old rule checkpointed at most
//    interval after the last keep-alive too).
// With the default 5 s: K + TTL + 5 s + E for TTLs up to 10 s, K + 1.5 TTL + E
// above (I = TTL/2, so a lease kept alive every TTL/3 is never checkpointed
// between keep-alives whatever its TTL). If I >= TTL the leader expires the
// lease before it comes due; the bound still holds (D < K + TTL <= K + I).
// One limit, as in etcd: a restart loses the member's clock, so its
// checkpoints count down again from the restart. A member that restarts and
// then leads before a newer checkpoint reaches it gives a lease up to its
// downtime (and log replay) more; the bound holds for changes among running
// members (transfers, a dead or paused or cut-off leader).
//
// Not thread-safe: the server serialises calls.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/lease/checkpoint_schedule.h"
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
  // `slot`: the grant's place (1..) in a grant batch, so that the grants of
  // one entry derive ids far apart instead of probing past each other; 0
  // for a single grant (the derivation older members use).
  Result<LeaseId> grant(LeaseId id, int64_t ttl_seconds, uint64_t raft_index,
                        storage::WriteBatch* batch, uint64_t slot = 0);
  // Removes the lease; returns its keys, sorted, for the caller to delete in
  // the same revision. kLeaseNotFound if unknown.
  Result<std::vector<std::string>> revoke(LeaseId id, storage::WriteBatch* batch);
  // A put carrying `id` made `key` belong to the lease (idempotent).
  // kLeaseNotFound if unknown, kTooLarge past kMaxKeysPerLease.
  Status attach(LeaseId id, std::string_view key);
  // `key` was deleted or overwritten without this lease. kLeaseNotFound,
  // kNotFound (key not attached).
  Status detach(LeaseId id, std::string_view key);
  // The lease `key` is attached to, 0 if none: what a put that overwrites
  // the key detaches it from, without reading its previous record.
  LeaseId lease_of(std::string_view key) const;

  // Records the lease's remaining TTL (0: reset, it was kept alive).
  // kLeaseNotFound if unknown (revoked since), kBadRequest if out of range.
  Status checkpoint(const Checkpoint& cp, storage::WriteBatch* batch);
  // Checkpoints this member applied since it started (metrics: a healthy
  // lease kept alive costs none in steady state).
  struct CheckpointCounts {
    uint64_t countdowns_applied = 0;  // remaining TTL > 0
    uint64_t resets_applied = 0;      // remaining 0, for a keep-alive
  };
  const CheckpointCounts& checkpoint_counts() const { return counts_; }
  // A lessor that replaces this one (snapshot install) counts on from these.
  void carry_counts(const CheckpointCounts& counts) { counts_ = counts; }
  // A checkpoint entry this member proposed, of `term`, applied. If this is
  // the primary of that term, its batches up to `sequence` have applied
  // (one leader's entries apply in the order it proposed them).
  void own_batch_applied(uint64_t term, uint64_t sequence);

  // Loads every lease record of the engine into an empty lessor (start-up,
  // snapshot install). The caller then attaches keys from the kv index.
  // kStorage on a bad record; on error the lessor stays empty.
  Status recover(const storage::Engine& engine);

  const Lease* lookup(LeaseId id) const;
  std::vector<LeaseId> list() const;  // ascending
  size_t size() const { return leases_.size(); }

  // Member-local: checkpoints applied since the last call count down from
  // `now`. Call right after every apply.
  void stamp(Millis now);
  // The member's countdown of the lease's last checkpoint, if it has one.
  std::optional<Millis> checkpoint_deadline(LeaseId id) const;

  // Leader-local half. promote: became leader in `term`, with every entry of
  // earlier terms applied (so every committed checkpoint is known). A lease
  // with a checkpoint expires where its countdown ends; one without gets a
  // whole TTL from now and a checkpoint as soon as the rate allows.
  void promote(Millis now, uint64_t term);
  void demote();
  bool is_primary() const { return primary_; }
  // I of the comment above: how long after its last keep-alive a lease of
  // this TTL is checkpointed.
  Millis checkpoint_interval_ms(int64_t ttl_seconds) const;
  // Restarts the lease's TTL. kNotLeader when not primary; kLeaseNotFound if
  // unknown or already expired (its revoke is on the way, as etcd). Call it
  // only once this member's leadership is confirmed after the request came.
  Result<KeepAliveGrant> keepalive(LeaseId id, Millis now);
  // The periodic checkpoints due now (at most max_count), as the next batch;
  // empty when none is due or not primary. Each lease in it counts as having
  // a checkpoint on its way until a later batch of this term applies.
  CheckpointBatch take_due_checkpoints(Millis now, size_t max_count);
  // A periodic batch raft refused: its leases are due again at `due`.
  void retry_checkpoints(const CheckpointBatch& batch, Millis due);
  // A batch of resets for leases kept alive (keepalive said reset_needed).
  CheckpointBatch reset_batch(const std::vector<LeaseId>& ids);
  // Highest sequence of this term's batches applied so far.
  uint64_t applied_sequence() const { return applied_sequence_; }
  // Up to max_count leases past their deadline, earliest first. Each is
  // returned once; again only after kExpiredRetryMs if its revoke has not
  // applied by then. Empty when not primary.
  std::vector<LeaseId> expired(Millis now, size_t max_count);
  Result<TimeToLive> time_to_live(LeaseId id, Millis now, bool with_keys);

 private:
  LeaseId derive_id(uint64_t raft_index, uint64_t slot) const;
  void start_pending(Millis now);

  bool checkpoint_on_its_way(LeaseId id);
  void stage_record(const Lease& lease, storage::WriteBatch* batch) const;
  // Drops key_lease_'s entry for `key` (an element of lease `id`'s keys) if it is that one.
  void forget_key(const std::string& key, LeaseId id);
  void set_remaining(Lease& lease, Millis remaining_ms);

  LessorOptions options_;
  // Hashed, not ordered: every grant, keep-alive and attach looks a lease up,
  // and a tree of 100k leases costs a cache miss per level. Nothing
  // replicated depends on its order (list() sorts).
  std::unordered_map<LeaseId, Lease> leases_;
  // Each attached key -> its lease; the views point into Lease::keys (a
  // set's strings stay put until erased, and are erased after the view).
  std::unordered_map<std::string_view, LeaseId> key_lease_;
  // Member-local countdowns: where each checkpoint ends on this member's
  // clock; unstamped_ have applied and wait for stamp().
  std::unordered_map<LeaseId, Millis> checkpoint_deadline_;
  std::vector<LeaseId> unstamped_;

  bool primary_ = false;
  uint64_t primary_term_ = 0;
  ExpiryTracker tracker_;
  std::vector<LeaseId> pending_start_;  // granted while primary, no deadline yet
  CheckpointSchedule schedule_;
  CheckpointCounts counts_;
  uint64_t next_sequence_ = 1;
  uint64_t applied_sequence_ = 0;
  // Sequence of the last periodic batch that carried each lease.
  std::unordered_map<LeaseId, uint64_t> checkpoint_sent_in_;
};

}  // namespace corral::lease
