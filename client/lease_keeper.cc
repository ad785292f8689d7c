#include "client/lease_keeper.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace corral::client {

namespace {
// How long the keeper sleeps when it has nothing due (it is woken on add).
constexpr std::chrono::milliseconds kIdleWaitMs{1000};
}  // namespace

std::chrono::milliseconds keepalive_interval(int64_t ttl_seconds) {
  const int64_t third_ms = std::max<int64_t>(ttl_seconds, 0) * 1000 / 3;
  return std::chrono::milliseconds(std::max(third_ms, kMinKeepAliveIntervalMs));
}

LeaseKeeper::LeaseKeeper(Client& client, LostCallback on_lost)
    : client_(client), on_lost_(std::move(on_lost)), thread_([this] { run(); }) {}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // Keepalives still in flight call on_answer; wait for them so that they
  // never touch a destroyed keeper.
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    return std::none_of(leases_.begin(), leases_.end(),
                        [](const auto& kv) { return kv.second.in_flight; });
  });
}

Status LeaseKeeper::add(int64_t id, int64_t ttl_seconds) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    auto it = leases_.find(id);
    if (it == leases_.end() && leases_.size() >= kMaxKeptLeases) {
      return make_error(ErrorCode::kTooLarge,
                        "lease keeper holds " + std::to_string(kMaxKeptLeases) + " leases already");
    }
    if (it == leases_.end()) it = leases_.emplace(id, Kept{}).first;
    Kept& k = it->second;
    if (!k.in_flight) unschedule(id, k);
    const auto now = Clock::now();
    k.next_due = now + keepalive_interval(ttl_seconds);
    k.expires_at = now + std::chrono::seconds(ttl_seconds);
    // In flight: its answer schedules it again.
    if (!k.in_flight) wake = schedule(id, k);
  }
  if (wake) cv_.notify_all();
  return {};
}

void LeaseKeeper::remove(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  // An answer still in flight finds next_due == max and drops the entry.
  if (!it->second.in_flight) {
    unschedule(id, it->second);
    leases_.erase(it);
  } else {
    it->second.next_due = Clock::time_point::max();
  }
}

size_t LeaseKeeper::size() const {
  std::lock_guard lock(mu_);
  return leases_.size();
}

bool LeaseKeeper::schedule(int64_t id, const Kept& k) {
  auto it = schedule_.emplace(k.next_due, id).first;
  return it == schedule_.begin();
}

void LeaseKeeper::unschedule(int64_t id, const Kept& k) { schedule_.erase({k.next_due, id}); }

void LeaseKeeper::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    std::vector<int64_t> due;
    std::vector<int64_t> expired;
    while (!schedule_.empty() && schedule_.begin()->first <= now) {
      const int64_t id = schedule_.begin()->second;
      schedule_.erase(schedule_.begin());
      Kept& k = leases_.at(id);
      // next_due never passes expires_at, so a lease is caught here in time.
      if (now >= k.expires_at) {
        leases_.erase(id);
        expired.push_back(id);
      } else {
        k.in_flight = true;
        due.push_back(id);
      }
    }
    if (!due.empty() || !expired.empty()) {
      lock.unlock();
      for (int64_t id : expired) {
        on_lost_(id, make_error(ErrorCode::kTimeout, "no keepalive succeeded before the TTL ran out"));
      }
      for (int64_t id : due) {
        client_.call_async(LeaseKeepAliveRequest{id}, CallOptions{},
                           [this, id](Result<LeaseKeepAliveResult> r) { on_answer(id, r); });
      }
      lock.lock();
      continue;
    }
    const auto next = schedule_.empty() ? now + kIdleWaitMs : std::min(now + kIdleWaitMs, schedule_.begin()->first);
    cv_.wait_until(lock, next);
  }
}

void LeaseKeeper::on_answer(int64_t id, const Result<LeaseKeepAliveResult>& r) {
  std::optional<Error> lost;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    auto it = leases_.find(id);
    if (it == leases_.end()) return;
    Kept& k = it->second;
    k.in_flight = false;
    const auto now = Clock::now();
    if (k.next_due == Clock::time_point::max()) {
      leases_.erase(it);  // removed while in flight
    } else if (r.ok() && r->ttl_seconds > 0) {
      k.expires_at = now + std::chrono::seconds(r->ttl_seconds);
      k.next_due = now + keepalive_interval(r->ttl_seconds);
      wake = schedule(id, k);
    } else if (r.ok() || r.error().code == ErrorCode::kLeaseNotFound ||
               r.error().code == ErrorCode::kNotFound) {
      lost = r.ok() ? make_error(ErrorCode::kLeaseNotFound, "the lease has expired")
                    : r.error();
      leases_.erase(it);
    } else {
      k.next_due = std::min(now + std::chrono::milliseconds(kKeepAliveRetryMs), k.expires_at);
      wake = schedule(id, k);
    }
    // The destructor waits for the last answer in flight.
    if (stopping_) wake = true;
  }
  if (wake) cv_.notify_all();
  if (lost) on_lost_(id, *lost);
}

}  // namespace corral::client
