// Keeps a set of leases alive in the background: a keepalive for each lease
// every ttl/3 (so two may be lost before the lease is), and a report when a
// lease is lost (the member says it is gone, or no keepalive succeeded before
// it would have expired). Owns one timer thread; keepalives themselves are
// async calls on the Client, which must outlive the keeper. The keepalives
// due in one tick go in one LeaseKeepAliveBatchRequest (up to
// kMaxKeepAliveBatchIds ids each), so 100k leases cost a few frames a
// second, not 30k; against a member that does not know batches (unknown
// request) the keeper falls back to one request per lease.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "client/client.h"

namespace corral::client {

// Never refresh more often than this, whatever the TTL (bounds the load a
// tiny TTL could cause).
inline constexpr int64_t kMinKeepAliveIntervalMs = 100;
// After a failed keepalive, try again this soon (still bounded by ttl/3).
inline constexpr int64_t kKeepAliveRetryMs = 500;
inline constexpr std::chrono::milliseconds kKeepAliveRetry{kKeepAliveRetryMs};
// At most this many leases per keeper.
inline constexpr size_t kMaxKeptLeases = 1'000'000;
// A tick takes the leases due within this window too (each is refreshed at
// most this early), so that leases granted one by one share frames.
inline constexpr int64_t kKeepAliveBatchWindowMs = 50;
// A tick's keep-alives give up after half the shortest time any of them has
// left (within these bounds), so that a batch lost with a leader is sent
// again before its leases run out, not after the client's request timeout.
inline constexpr int64_t kMinKeepAliveCallMs = 300;
inline constexpr int64_t kMaxKeepAliveCallMs = 5000;

// The pause between keepalives of a lease with `ttl_seconds` left.
std::chrono::milliseconds keepalive_interval(int64_t ttl_seconds);

class LeaseKeeper {
 public:
  using LostCallback = std::function<void(int64_t lease_id, const Error& why)>;

  // `on_lost` runs on the keeper's or the client's I/O thread.
  LeaseKeeper(Client& client, LostCallback on_lost);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Starts keeping `id` alive; ttl_seconds is what the grant returned.
  // kTooLarge past kMaxKeptLeases.
  Status add(int64_t id, int64_t ttl_seconds);
  void remove(int64_t id);
  size_t size() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Kept {
    Clock::time_point next_due;    // max: removed while its keepalive was in flight
    Clock::time_point expires_at;  // by our own reckoning, from the last success
    bool in_flight = false;        // in flight: not in schedule_
  };

  void run();
  void send(std::vector<int64_t> due, std::chrono::milliseconds timeout);
  void on_answer(int64_t id, const Result<LeaseKeepAliveResult>& r);
  void on_batch_answer(const std::vector<int64_t>& ids, const Result<LeaseKeepAliveBatchResult>& r);
  void done_answering();
  // One lease's answer, under mu_: ttl_seconds > 0 renewed; else `error`
  // says why not (kLeaseNotFound/kNotFound/kOk: gone, reported in `lost`;
  // anything else: retried after `retry_after`). True if the keeper thread
  // must wake.
  bool settle(int64_t id, int64_t ttl_seconds, const Error* error,
              std::vector<std::pair<int64_t, Error>>& lost,
              std::chrono::milliseconds retry_after = kKeepAliveRetry);
  // Puts `id` in schedule_ at k.next_due; true if it is now the first due
  // (the keeper thread must wake earlier than it planned).
  bool schedule(int64_t id, const Kept& k);
  void unschedule(int64_t id, const Kept& k);

  Client& client_;
  LostCallback on_lost_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int answering_ = 0;  // answers between their first lock and their last use of this keeper
  std::map<int64_t, Kept> leases_;
  // Leases not in flight, by next_due: each wake touches only what is due,
  // so the cost of a keepalive does not grow with the number of leases.
  std::set<std::pair<Clock::time_point, int64_t>> schedule_;
  bool stopping_ = false;
  bool single_requests_ = false;  // a member said it knows no batches
  std::thread thread_;
};

}  // namespace corral::client
