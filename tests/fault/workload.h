// Load and checks shared by the fault tests.
//
// WriteLoad: several threads, each with its own client, put unique keys
// (<prefix>w<thread>/<seq>) until a count or a time bound; every put's outcome
// is recorded as acknowledged (with its revision), unknown (timeout,
// unavailable: it may or may not be applied) or refused (never delivered).
// Each key is written by one put, so its final version counts how often that
// put was applied: check_writes demands exactly once for an acknowledged
// write and at most once for an unknown one (a resent write shows as 2).
// RegisterLoad: one writer puts increasing numbers into one key, one after
// the other, while a reader reads it linearizably and checks that reads
// never go back in time (nor behind a write acknowledged before the read);
// at the end the key's version must lie between the writes acknowledged and
// the writes attempted.
// LeaderWatch: polls every member's status and counts leader changes.
// EventLog: the events of one watch, for gap/duplicate checks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"

namespace corral::fault {

using Clock = std::chrono::steady_clock;

struct WriteOutcome {
  enum class State : uint8_t { kAcked, kUnknown, kRefused };
  std::string key;
  std::string value;
  int64_t revision = 0;
  State state = State::kUnknown;
  bool resent = false;  // sabotage: sent twice (WriteLoadOptions::resend_every)
};

// What a failed write's error says of it: refused (it never reached a
// member) or unknown (it may have been applied).
WriteOutcome::State classify(const client::Error& e);

// CORRAL_WORKLOAD_SABOTAGE=N: every load resends every N-th write (see
// resend_every), so every fault test that checks writes must fail.
inline constexpr const char* kSabotageEnv = "CORRAL_WORKLOAD_SABOTAGE";
// N from kSabotageEnv, 0 when unset.
int sabotage_resend_every();

struct WriteLoadOptions {
  std::string prefix = "/load/";
  int threads = 4;
  int writes_per_thread = 400;
  std::chrono::milliseconds max_duration{30'000};
  std::chrono::milliseconds request_timeout{3'000};
  // Sabotage, to prove the checks can fail: every resend_every-th write is
  // sent a second time after its answer, and only the second answer is
  // recorded, as a client that resends without deduplication would report
  // it. 0: off, unless kSabotageEnv sets it.
  int resend_every = 0;
};

class WriteLoad {
 public:
  WriteLoad(const integration::Cluster& cluster, WriteLoadOptions options);
  ~WriteLoad();
  void start();
  void join();
  // Ends every thread after its current request, then joins.
  void stop();
  // Every thread has made all its writes.
  bool finished() const { return done_.load() >= static_cast<size_t>(options_.threads * options_.writes_per_thread); }
  size_t acked() const { return acked_.load(); }
  size_t done() const { return done_.load(); }
  // After join().
  const std::vector<WriteOutcome>& outcomes() const { return outcomes_; }
  size_t count(WriteOutcome::State s) const;
  // The longest time between two acknowledgements (any thread), in ms.
  int64_t max_gap_ms() const;

 private:
  void run(int thread);

  const integration::Cluster& cluster_;
  WriteLoadOptions options_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0};
  std::atomic<size_t> done_{0};
  std::mutex mu_;
  std::vector<WriteOutcome> outcomes_;
  std::vector<Clock::time_point> ack_times_;
};

struct WriteCheck {
  size_t lost = 0;       // acknowledged, but missing or with another value
  size_t phantom = 0;    // present, but never attempted or refused
  size_t duplicated = 0; // applied more than once (the key's version > 1)
  size_t unknown_present = 0;
  std::vector<std::string> lost_keys;
  std::vector<std::string> duplicated_keys;
};
// Reads `prefix` back (linearizable) and compares with the outcomes.
WriteCheck check_writes(client::Client& c, const std::string& prefix,
                        const std::vector<WriteOutcome>& outcomes);

class RegisterLoad {
 public:
  RegisterLoad(const integration::Cluster& cluster, std::string key, std::chrono::milliseconds max_duration);
  ~RegisterLoad();
  void start();
  void stop();
  int64_t writes_acked() const { return writes_acked_.load(); }
  // Sent (acknowledged or of unknown outcome; refused ones are not counted).
  int64_t writes_attempted() const { return writes_attempted_.load(); }
  int64_t reads_ok() const { return reads_ok_.load(); }
  int64_t violations() const { return violations_.load(); }
  std::vector<std::string> violation_texts();
  // After stop(): the key's final version must be at least the writes
  // acknowledged (none lost) and at most the writes attempted (none applied
  // twice). Returns what is wrong, or "".
  std::string check_version(client::Client& c) const;

 private:
  const integration::Cluster& cluster_;
  std::string key_;
  std::chrono::milliseconds max_duration_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> highest_acked_{0};
  std::atomic<int64_t> writes_acked_{0};
  std::atomic<int64_t> writes_attempted_{0};
  std::atomic<int64_t> reads_ok_{0};
  std::atomic<int64_t> violations_{0};
  std::mutex mu_;
  std::vector<std::string> violation_texts_;
  std::thread writer_;
  std::thread reader_;
};

class LeaderWatch {
 public:
  explicit LeaderWatch(const integration::Cluster& cluster);
  ~LeaderWatch();
  void stop();
  int changes() const { return changes_.load(); }

 private:
  const integration::Cluster& cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<int> changes_{0};
  std::thread thread_;
};

struct EventLog {
  std::mutex mu;
  std::vector<client::WatchEvent> events;
  std::optional<client::Error> error;
  client::WatchCallback callback();
  size_t size();
};

// The watch's events must be exactly the final key space of `prefix` (every
// key written once, by a put), in revision order: returns what differs.
std::vector<std::string> compare_events_with_keys(const std::vector<client::WatchEvent>& events,
                                                  const std::vector<client::KeyValue>& kvs);

void print_summary(const std::string& name, const WriteLoad& load, const WriteCheck& check,
                   int leader_changes);

}  // namespace corral::fault
