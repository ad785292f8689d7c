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
  // Keepalives still in flight call on_answer, and an answer uses cv_ and
  // on_lost_ after it settled its leases; wait for both so that nothing
  // touches a destroyed keeper (TSan saw cv_ destroyed under a notify).
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    return answering_ == 0 && std::none_of(leases_.begin(), leases_.end(),
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
    const auto horizon = now + std::chrono::milliseconds(kKeepAliveBatchWindowMs);
    std::vector<int64_t> due;
    std::vector<int64_t> expired;
    auto shortest_left = std::chrono::milliseconds(2 * kMaxKeepAliveCallMs);
    while (!schedule_.empty() && schedule_.begin()->first <= horizon) {
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
        shortest_left = std::min(shortest_left,
                                 std::chrono::duration_cast<std::chrono::milliseconds>(k.expires_at - now));
      }
    }
    if (!due.empty() || !expired.empty()) {
      lock.unlock();
      for (int64_t id : expired) {
        on_lost_(id, make_error(ErrorCode::kTimeout, "no keepalive succeeded before the TTL ran out"));
      }
      send(std::move(due), std::clamp(shortest_left / 2, std::chrono::milliseconds(kMinKeepAliveCallMs),
                                      std::chrono::milliseconds(kMaxKeepAliveCallMs)));
      lock.lock();
      continue;
    }
    const auto next = schedule_.empty() ? now + kIdleWaitMs : std::min(now + kIdleWaitMs, schedule_.begin()->first);
    cv_.wait_until(lock, next);
  }
}

// One frame per kMaxKeepAliveBatchIds leases due (one request per lease to
// a member that knows no batches).
void LeaseKeeper::send(std::vector<int64_t> due, std::chrono::milliseconds timeout) {
  CallOptions options;
  options.timeout = timeout;
  bool singles = false;
  {
    std::lock_guard lock(mu_);
    singles = single_requests_;
  }
  if (singles) {
    for (int64_t id : due) {
      client_.call_async(LeaseKeepAliveRequest{id}, options,
                         [this, id](Result<LeaseKeepAliveResult> r) { on_answer(id, r); });
    }
    return;
  }
  for (size_t at = 0; at < due.size(); at += kMaxKeepAliveBatchIds) {
    const size_t end = std::min(due.size(), at + kMaxKeepAliveBatchIds);
    LeaseKeepAliveBatchRequest req;
    req.ids.assign(due.begin() + static_cast<std::ptrdiff_t>(at), due.begin() + static_cast<std::ptrdiff_t>(end));
    auto ids = req.ids;
    client_.call_async(std::move(req), options,
                       [this, ids = std::move(ids)](Result<LeaseKeepAliveBatchResult> r) { on_batch_answer(ids, r); });
  }
}

bool LeaseKeeper::settle(int64_t id, int64_t ttl_seconds, const Error* error,
                         std::vector<std::pair<int64_t, Error>>& lost, std::chrono::milliseconds retry_after) {
  auto it = leases_.find(id);
  if (it == leases_.end() || !it->second.in_flight) return false;
  Kept& k = it->second;
  k.in_flight = false;
  const auto now = Clock::now();
  if (k.next_due == Clock::time_point::max()) {
    leases_.erase(it);  // removed while in flight
    return false;
  }
  if (error == nullptr && ttl_seconds > 0) {
    k.expires_at = now + std::chrono::seconds(ttl_seconds);
    k.next_due = now + keepalive_interval(ttl_seconds);
    return schedule(id, k);
  }
  if (error == nullptr || error->code == ErrorCode::kLeaseNotFound || error->code == ErrorCode::kNotFound) {
    lost.emplace_back(id, error == nullptr ? make_error(ErrorCode::kLeaseNotFound, "the lease has expired") : *error);
    leases_.erase(it);
    return false;
  }
  k.next_due = std::min(now + retry_after, k.expires_at);
  return schedule(id, k);
}

void LeaseKeeper::on_answer(int64_t id, const Result<LeaseKeepAliveResult>& r) {
  std::vector<std::pair<int64_t, Error>> lost;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    ++answering_;
    wake = r.ok() ? settle(id, r->ttl_seconds, nullptr, lost) : settle(id, 0, &r.error(), lost);
    // The destructor waits for the last answer in flight.
    if (stopping_) wake = true;
  }
  if (wake) cv_.notify_all();
  for (auto& [lost_id, why] : lost) on_lost_(lost_id, why);
  done_answering();
}

// Each id by its own outcome; an id the answer does not name (it should
// name them all, in order) is retried as after a failure.
void LeaseKeeper::on_batch_answer(const std::vector<int64_t>& ids, const Result<LeaseKeepAliveBatchResult>& r) {
  std::vector<std::pair<int64_t, Error>> lost;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    ++answering_;
    // A member that knows no batches: the leases go again at once, one
    // request each, instead of after a failure's retry pause (half of a
    // 1 s TTL gone before the first keep-alive it understands).
    const bool refused_as_unknown = !r.ok() && r.error().code == ErrorCode::kUnknownRequest;
    if (refused_as_unknown) single_requests_ = true;
    const Error unanswered = r.ok() ? make_error(ErrorCode::kBadResponse, "keep-alive batch answer without this id")
                                    : r.error();
    for (size_t i = 0; i < ids.size(); ++i) {
      const LeaseKeepAliveOutcome* o = r.ok() && i < r->outcomes.size() && r->outcomes[i].id == ids[i] ? &r->outcomes[i] : nullptr;
      if (o == nullptr) {
        wake |= settle(ids[i], 0, &unanswered, lost,
                       refused_as_unknown ? std::chrono::milliseconds(0) : kKeepAliveRetry);
      } else if (o->error == ErrorCode::kOk) {
        wake |= settle(ids[i], o->ttl_seconds, nullptr, lost);
      } else {
        const Error why = make_error(o->error, o->error == ErrorCode::kLeaseNotFound ? "the lease is gone"
                                                                                    : "keep-alive not renewed; retrying");
        wake |= settle(ids[i], 0, &why, lost);
      }
    }
    if (stopping_) wake = true;
  }
  if (wake) cv_.notify_all();
  for (auto& [lost_id, why] : lost) on_lost_(lost_id, why);
  done_answering();
}

// The destructor may go once the last answer has left; it is told under the
// lock, so it cannot free cv_ between the notify and its return.
void LeaseKeeper::done_answering() {
  std::lock_guard lock(mu_);
  if (--answering_ == 0 && stopping_) cv_.notify_all();
}

}  // namespace corral::client
