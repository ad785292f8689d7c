#include "coordinator/lease/lessor.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "coordinator/base/check.h"
#include "coordinator/lease/lease_record.h"
#include "coordinator/storage/engine.h"

namespace corral::lease {
namespace {

// splitmix64: spreads consecutive raft indexes over the id space, so derived
// ids do not collide with small ids that clients choose themselves.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr Millis kMillisPerSecond = 1000;

}  // namespace

Lessor::Lessor(LessorOptions options) : options_(options) {
  CORRAL_CHECK(options_.min_ttl_seconds > 0 && options_.min_ttl_seconds <= kMaxTtlSeconds);
  CORRAL_CHECK(options_.checkpoint_interval_ms > 0);
}

Millis Lessor::checkpoint_interval_ms(int64_t ttl_seconds) const {
  return std::max(options_.checkpoint_interval_ms, ttl_seconds * kMillisPerSecond / 2);
}

LeaseId Lessor::derive_id(uint64_t raft_index, uint64_t slot) const {
  constexpr uint64_t kPositive = static_cast<uint64_t>(std::numeric_limits<LeaseId>::max());
  const uint64_t seed = slot == 0 ? mix(raft_index) : mix(mix(raft_index) + slot);
  auto id = static_cast<LeaseId>(seed & kPositive);
  if (id == 0) id = 1;
  // Linear probing over the table's ids: the table is the same on every
  // member, so the probe is deterministic too.
  while (leases_.contains(id)) id = id == std::numeric_limits<LeaseId>::max() ? 1 : id + 1;
  return id;
}

Result<LeaseId> Lessor::grant(LeaseId id, int64_t ttl_seconds, uint64_t raft_index,
                              storage::WriteBatch* batch, uint64_t slot) {
  if (id < 0) return make_error(ErrorCode::kBadRequest, "lease id is negative");
  if (id != 0 && leases_.contains(id)) {
    return make_error(ErrorCode::kBadRequest, "lease " + std::to_string(id) + " already exists");
  }
  if (ttl_seconds > kMaxTtlSeconds) {
    return make_error(ErrorCode::kTooLarge, "lease TTL over " + std::to_string(kMaxTtlSeconds) +
                                                " seconds");
  }
  if (leases_.size() >= kMaxLeases) {
    return make_error(ErrorCode::kTooLarge,
                      "too many leases (max " + std::to_string(kMaxLeases) + ")");
  }
  if (id == 0) id = derive_id(raft_index, slot);
  int64_t ttl = std::max(ttl_seconds, options_.min_ttl_seconds);
  Lease& lease = leases_.emplace(id, Lease{id, ttl, 0, {}}).first->second;
  // The grant is the lease's first checkpoint: the whole TTL.
  set_remaining(lease, ttl * kMillisPerSecond);
  stage_record(lease, batch);
  if (primary_) pending_start_.push_back(id);
  return id;
}

Result<std::vector<std::string>> Lessor::revoke(LeaseId id, storage::WriteBatch* batch) {
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(id) + " not found");
  }
  std::vector<std::string> keys(it->second.keys.begin(), it->second.keys.end());
  for (const std::string& key : it->second.keys) forget_key(key, id);
  leases_.erase(it);
  tracker_.remove(id);
  std::erase(pending_start_, id);
  checkpoint_deadline_.erase(id);
  schedule_.remove(id);
  checkpoint_sent_in_.erase(id);
  if (batch) batch->del(storage::Space::kLease, encode_lease_key(id));
  return keys;
}

Status Lessor::attach(LeaseId id, std::string_view key) {
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(id) + " not found");
  }
  auto& keys = it->second.keys;
  if (keys.size() >= kMaxKeysPerLease && !keys.contains(std::string(key))) {
    return make_error(ErrorCode::kTooLarge, "lease " + std::to_string(id) + " already holds " +
                                                std::to_string(kMaxKeysPerLease) + " keys");
  }
  const std::string& stored = *keys.emplace(key).first;
  // A view into this lease's own copy, replacing any into another lease's.
  key_lease_.erase(stored);
  key_lease_.emplace(stored, id);
  return Status::ok_status();
}

Status Lessor::detach(LeaseId id, std::string_view key) {
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(id) + " not found");
  }
  auto k = it->second.keys.find(std::string(key));
  if (k == it->second.keys.end()) {
    return make_error(ErrorCode::kNotFound, "key is not attached to lease " + std::to_string(id));
  }
  forget_key(*k, id);
  it->second.keys.erase(k);
  return Status::ok_status();
}

LeaseId Lessor::lease_of(std::string_view key) const {
  auto it = key_lease_.find(key);
  return it == key_lease_.end() ? 0 : it->second;
}

void Lessor::forget_key(const std::string& key, LeaseId id) {
  auto it = key_lease_.find(key);
  // Only this lease's view: the key may have moved to another lease since.
  if (it != key_lease_.end() && it->second == id && it->first.data() == key.data()) key_lease_.erase(it);
}

void Lessor::stage_record(const Lease& lease, storage::WriteBatch* batch) const {
  if (batch == nullptr) return;
  batch->put(storage::Space::kLease, encode_lease_key(lease.id),
             encode_lease_value({lease.id, lease.ttl_seconds, lease.remaining_ms}));
}

void Lessor::set_remaining(Lease& lease, Millis remaining_ms) {
  lease.remaining_ms = remaining_ms;
  checkpoint_deadline_.erase(lease.id);
  if (remaining_ms > 0) unstamped_.push_back(lease.id);
}

Status Lessor::checkpoint(const Checkpoint& cp, storage::WriteBatch* batch) {
  if (cp.remaining_ms < 0 || cp.remaining_ms > kMaxRemainingMs) {
    return make_error(ErrorCode::kBadRequest, "checkpoint of lease " + std::to_string(cp.id) +
                                                  ": remaining " + std::to_string(cp.remaining_ms) +
                                                  " ms out of range");
  }
  auto it = leases_.find(cp.id);
  if (it == leases_.end()) {
    return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(cp.id) + " not found");
  }
  set_remaining(it->second, cp.remaining_ms);
  stage_record(it->second, batch);
  ++(cp.remaining_ms > 0 ? counts_.countdowns_applied : counts_.resets_applied);
  return Status::ok_status();
}

void Lessor::own_batch_applied(uint64_t term, uint64_t sequence) {
  if (!primary_ || term != primary_term_) return;
  applied_sequence_ = std::max(applied_sequence_, sequence);
}

void Lessor::stamp(Millis now) {
  for (LeaseId id : unstamped_) {
    auto it = leases_.find(id);
    // A later checkpoint of the same lease, or a revoke, may have come since.
    if (it == leases_.end() || it->second.remaining_ms == 0) continue;
    checkpoint_deadline_[id] = now + it->second.remaining_ms;
  }
  unstamped_.clear();
}

std::optional<Millis> Lessor::checkpoint_deadline(LeaseId id) const {
  auto it = checkpoint_deadline_.find(id);
  if (it == checkpoint_deadline_.end()) return std::nullopt;
  return it->second;
}

Status Lessor::recover(const storage::Engine& engine) {
  CORRAL_CHECK(leases_.empty() && key_lease_.empty());
  std::unordered_map<LeaseId, Lease> loaded;
  auto it = engine.scan(storage::Space::kLease, "", "");
  for (; it->valid(); it->next()) {
    auto record = decode_lease_record(it->key(), it->value());
    if (!record.ok()) return record.error();
    loaded.emplace(record->id, Lease{record->id, record->ttl_seconds, record->remaining_ms, {}});
  }
  if (!it->status().ok()) return it->status();
  if (loaded.size() > kMaxLeases) {
    return make_error(ErrorCode::kStorage, "more stored leases than kMaxLeases");
  }
  leases_ = std::move(loaded);
  // A restart counts every checkpoint down again from the next stamp.
  for (const auto& [id, lease] : leases_) {
    if (lease.remaining_ms > 0) unstamped_.push_back(id);
  }
  if (primary_) {
    for (const auto& [id, lease] : leases_) pending_start_.push_back(id);
  }
  return Status::ok_status();
}

const Lease* Lessor::lookup(LeaseId id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

std::vector<LeaseId> Lessor::list() const {
  std::vector<LeaseId> out;
  out.reserve(leases_.size());
  for (const auto& [id, lease] : leases_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

void Lessor::promote(Millis now, uint64_t term) {
  stamp(now);
  primary_ = true;
  primary_term_ = term;
  next_sequence_ = 1;
  applied_sequence_ = 0;
  checkpoint_sent_in_.clear();
  schedule_.clear();
  pending_start_.clear();
  tracker_.clear();
  for (const auto& [id, lease] : leases_) {
    auto counted = checkpoint_deadline(id);
    if (counted) {
      tracker_.set(id, *counted);
    } else {
      tracker_.set(id, now + lease.ttl_seconds * kMillisPerSecond);
      // Checkpointed at once (unless its holder keeps it alive first, which
      // moves it): a chain of leaders each dying before its first
      // checkpoint would otherwise give the lease a TTL each.
      schedule_.set(id, now);
    }
  }
}

void Lessor::demote() {
  primary_ = false;
  primary_term_ = 0;
  pending_start_.clear();
  tracker_.clear();
  schedule_.clear();
  checkpoint_sent_in_.clear();
}

void Lessor::start_pending(Millis now) {
  for (LeaseId id : pending_start_) {
    const Lease* lease = lookup(id);
    CORRAL_CHECK(lease != nullptr);
    tracker_.set(id, now + lease->ttl_seconds * kMillisPerSecond);
  }
  pending_start_.clear();
}

bool Lessor::checkpoint_on_its_way(LeaseId id) {
  auto it = checkpoint_sent_in_.find(id);
  if (it == checkpoint_sent_in_.end()) return false;
  if (it->second > applied_sequence_) return true;
  checkpoint_sent_in_.erase(it);
  return false;
}

Result<KeepAliveGrant> Lessor::keepalive(LeaseId id, Millis now) {
  if (!primary_) return make_error(ErrorCode::kNotLeader, "lease keepalive needs the leader");
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(id) + " not found");
  }
  start_pending(now);
  auto deadline = tracker_.deadline(id);
  CORRAL_CHECK(deadline.has_value());
  if (tracker_.reported(id) || *deadline <= now) {
    return make_error(ErrorCode::kLeaseNotFound,
                      "lease " + std::to_string(id) + " expired; its revoke is pending");
  }
  tracker_.set(id, now + it->second.ttl_seconds * kMillisPerSecond);
  // Due an interval after this, its last keep-alive so far: a lease kept
  // alive more often never comes due (lessor.h).
  schedule_.set(id, now + checkpoint_interval_ms(it->second.ttl_seconds));
  return KeepAliveGrant{it->second.ttl_seconds, it->second.remaining_ms > 0 || checkpoint_on_its_way(id)};
}

CheckpointBatch Lessor::take_due_checkpoints(Millis now, size_t max_count) {
  CheckpointBatch out;
  if (!primary_) return out;
  start_pending(now);
  for (LeaseId id : schedule_.pop_due(now, std::min(max_count, kMaxCheckpointsPerEntry))) {
    auto deadline = tracker_.deadline(id);
    if (!deadline || tracker_.reported(id) || *deadline <= now) continue;  // expiry takes it
    out.checkpoints.push_back(Checkpoint{id, std::min(*deadline - now, kMaxRemainingMs)});
  }
  if (out.checkpoints.empty()) return out;
  out.sequence = next_sequence_++;
  for (const auto& cp : out.checkpoints) checkpoint_sent_in_[cp.id] = out.sequence;
  return out;
}

void Lessor::retry_checkpoints(const CheckpointBatch& batch, Millis due) {
  for (const auto& cp : batch.checkpoints) {
    if (leases_.contains(cp.id) && !schedule_.contains(cp.id)) schedule_.set(cp.id, due);
  }
}

CheckpointBatch Lessor::reset_batch(const std::vector<LeaseId>& ids) {
  CORRAL_CHECK(primary_);
  CORRAL_CHECK(!ids.empty() && ids.size() <= kMaxCheckpointsPerEntry);
  CheckpointBatch out;
  out.sequence = next_sequence_++;
  out.checkpoints.reserve(ids.size());
  for (LeaseId id : ids) out.checkpoints.push_back(Checkpoint{id, 0});
  return out;
}

std::vector<LeaseId> Lessor::expired(Millis now, size_t max_count) {
  if (!primary_) return {};
  start_pending(now);
  return tracker_.pop_expired(now, max_count, now + kExpiredRetryMs);
}

Result<TimeToLive> Lessor::time_to_live(LeaseId id, Millis now, bool with_keys) {
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(id) + " not found");
  }
  TimeToLive out;
  out.id = id;
  out.granted_ttl_seconds = it->second.ttl_seconds;
  out.remaining_ms = it->second.ttl_seconds * kMillisPerSecond;
  if (auto counted = checkpoint_deadline(id); counted && !primary_) {
    out.remaining_ms = std::clamp<Millis>(*counted - now, 0, out.remaining_ms);
  }
  if (primary_) {
    start_pending(now);
    auto deadline = tracker_.deadline(id);
    CORRAL_CHECK(deadline.has_value());
    out.remaining_ms = tracker_.reported(id) ? 0 : std::max<Millis>(0, *deadline - now);
  }
  if (with_keys) out.keys.assign(it->second.keys.begin(), it->second.keys.end());
  return out;
}

}  // namespace corral::lease
