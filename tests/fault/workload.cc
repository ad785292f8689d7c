#include "tests/fault/workload.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace corral::fault {

using client::ErrorCode;
using namespace std::chrono_literals;

namespace {

constexpr auto kStatusPollEvery = 50ms;
constexpr auto kStatusTimeout = 300ms;

}  // namespace

WriteOutcome::State classify(const client::Error& e) {
  // Only these mean the request never reached a member (client.h, retry.h).
  switch (e.code) {
    case ErrorCode::kUnreachable:
    case ErrorCode::kBackpressure:
    case ErrorCode::kBadRequest:
    case ErrorCode::kTooLarge:
    case ErrorCode::kNoSpace:  // the leader refuses before proposing
      return WriteOutcome::State::kRefused;
    default:
      return WriteOutcome::State::kUnknown;
  }
}

int sabotage_resend_every() {
  const char* env = std::getenv(kSabotageEnv);
  const int n = env ? std::max(0, std::atoi(env)) : 0;
  if (n > 0) std::printf("%s=%d: every %d-th write is sent twice\n", kSabotageEnv, n, n);
  return n;
}

WriteLoad::WriteLoad(const integration::Cluster& cluster, WriteLoadOptions options)
    : cluster_(cluster), options_(std::move(options)) {
  if (options_.resend_every == 0) options_.resend_every = sabotage_resend_every();
}

WriteLoad::~WriteLoad() { join(); }

void WriteLoad::start() {
  for (int t = 0; t < options_.threads; ++t) threads_.emplace_back([this, t] { run(t); });
}

void WriteLoad::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WriteLoad::stop() {
  stop_.store(true);
  join();
}

void WriteLoad::run(int thread) {
  auto c = cluster_.client({}, options_.request_timeout);
  const auto end = Clock::now() + options_.max_duration;
  std::vector<WriteOutcome> mine;
  std::vector<Clock::time_point> times;
  for (int seq = 0; seq < options_.writes_per_thread && Clock::now() < end && !stop_.load(); ++seq) {
    WriteOutcome o;
    o.key = options_.prefix + "w" + std::to_string(thread) + "/" + std::to_string(seq);
    o.value = "v" + std::to_string(thread) + "." + std::to_string(seq);
    if (options_.resend_every > 0 && seq % options_.resend_every == options_.resend_every - 1) {
      o.resent = true;
      (void)c->put(o.key, o.value);  // the first answer is lost to the caller
    }
    auto r = c->put(o.key, o.value);
    if (r.ok()) {
      o.state = WriteOutcome::State::kAcked;
      o.revision = r->header.revision;
      times.push_back(Clock::now());
      acked_.fetch_add(1);
    } else {
      o.state = classify(r.error());
    }
    done_.fetch_add(1);
    mine.push_back(std::move(o));
  }
  std::lock_guard lock(mu_);
  outcomes_.insert(outcomes_.end(), mine.begin(), mine.end());
  ack_times_.insert(ack_times_.end(), times.begin(), times.end());
}

size_t WriteLoad::count(WriteOutcome::State s) const {
  return static_cast<size_t>(std::count_if(outcomes_.begin(), outcomes_.end(),
                                           [s](const WriteOutcome& o) { return o.state == s; }));
}

int64_t WriteLoad::max_gap_ms() const {
  std::vector<Clock::time_point> t = ack_times_;
  std::sort(t.begin(), t.end());
  int64_t gap = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    gap = std::max<int64_t>(gap, std::chrono::duration_cast<std::chrono::milliseconds>(t[i] - t[i - 1]).count());
  }
  return gap;
}

WriteCheck check_writes(client::Client& c, const std::string& prefix, const std::vector<WriteOutcome>& outcomes) {
  WriteCheck out;
  auto r = c.get_prefix(prefix);
  if (!r.ok()) {
    out.lost = outcomes.size();
    out.lost_keys.push_back("read back failed: " + client::to_string(r.error()));
    return out;
  }
  std::map<std::string, const client::KeyValue*> present;
  for (const auto& kv : r->kvs) present[kv.key] = &kv;
  std::map<std::string, const WriteOutcome*> attempted;
  for (const auto& o : outcomes) attempted[o.key] = &o;
  for (const auto& o : outcomes) {
    auto it = present.find(o.key);
    const bool there = it != present.end() && it->second->value == o.value;
    if (there && it->second->version > 1) {
      // Each key is written by one put: a version above 1 is that put
      // applied again (a resent write), whatever its outcome.
      ++out.duplicated;
      out.duplicated_keys.push_back(o.key + " (version " + std::to_string(it->second->version) + ")");
      continue;
    }
    if (o.state == WriteOutcome::State::kAcked && (!there || it->second->mod_revision != o.revision)) {
      ++out.lost;
      out.lost_keys.push_back(o.key);
    }
    if (o.state == WriteOutcome::State::kUnknown && there) ++out.unknown_present;
  }
  for (const auto& [key, kv] : present) {
    auto it = attempted.find(key);
    if (it == attempted.end() || it->second->state == WriteOutcome::State::kRefused ||
        it->second->value != kv->value) {
      ++out.phantom;
    }
  }
  return out;
}

RegisterLoad::RegisterLoad(const integration::Cluster& cluster, std::string key, std::chrono::milliseconds max_duration)
    : cluster_(cluster), key_(std::move(key)), max_duration_(max_duration) {}

RegisterLoad::~RegisterLoad() { stop(); }

void RegisterLoad::start() {
  const auto end = Clock::now() + max_duration_;
  const int resend_every = sabotage_resend_every();
  writer_ = std::thread([this, end, resend_every] {
    auto c = cluster_.client({}, 3000ms);
    for (int64_t v = 1; !stop_.load() && Clock::now() < end; ++v) {
      if (resend_every > 0 && v % resend_every == 0) (void)c->put(key_, std::to_string(v));
      auto r = c->put(key_, std::to_string(v));
      if (r.ok()) {
        highest_acked_.store(v);
        writes_acked_.fetch_add(1);
      }
      if (r.ok() || classify(r.error()) == WriteOutcome::State::kUnknown) writes_attempted_.fetch_add(1);
    }
  });
  reader_ = std::thread([this, end] {
    auto c = cluster_.client({}, 3000ms);
    int64_t last_seen = 0;
    while (!stop_.load() && Clock::now() < end) {
      const int64_t acked_before = highest_acked_.load();
      auto r = c->get(key_);
      if (!r.ok()) continue;
      const int64_t seen = r->kvs.empty() ? 0 : std::stoll(r->kvs[0].value);
      reads_ok_.fetch_add(1);
      if (seen < last_seen || seen < acked_before) {
        violations_.fetch_add(1);
        std::lock_guard lock(mu_);
        violation_texts_.push_back("read " + std::to_string(seen) + " after seeing " + std::to_string(last_seen) +
                                   " with " + std::to_string(acked_before) + " acknowledged");
      }
      last_seen = std::max(last_seen, seen);
    }
  });
}

void RegisterLoad::stop() {
  stop_.store(true);
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
}

std::string RegisterLoad::check_version(client::Client& c) const {
  auto r = c.get(key_);
  if (!r.ok()) return "read back failed: " + client::to_string(r.error());
  const int64_t version = r->kvs.empty() ? 0 : r->kvs[0].version;
  if (version < writes_acked_.load()) {
    return "version " + std::to_string(version) + " below " + std::to_string(writes_acked_.load()) +
           " writes acknowledged";
  }
  if (version > writes_attempted_.load()) {
    return "version " + std::to_string(version) + " above " + std::to_string(writes_attempted_.load()) +
           " writes attempted: a write was applied twice";
  }
  return "";
}

std::vector<std::string> RegisterLoad::violation_texts() {
  std::lock_guard lock(mu_);
  return violation_texts_;
}

LeaderWatch::LeaderWatch(const integration::Cluster& cluster) : cluster_(cluster) {
  thread_ = std::thread([this] {
    uint64_t last_leader = 0;
    while (!stop_.load()) {
      uint64_t leader = 0;
      uint64_t term = 0;
      for (size_t i = 0; i < cluster_.size(); ++i) {
        auto st = cluster_.status(i, kStatusTimeout);
        if (st && st->leader != 0 && st->raft_term >= term) {
          term = st->raft_term;
          leader = st->leader;
        }
      }
      if (leader != 0 && last_leader != 0 && leader != last_leader) changes_.fetch_add(1);
      if (leader != 0) last_leader = leader;
      std::this_thread::sleep_for(kStatusPollEvery);
    }
  });
}

LeaderWatch::~LeaderWatch() { stop(); }

void LeaderWatch::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

client::WatchCallback EventLog::callback() {
  return [this](const client::WatchUpdate& u) {
    std::lock_guard lock(mu);
    if (u.error) error = u.error;
    events.insert(events.end(), u.events.begin(), u.events.end());
  };
}

size_t EventLog::size() {
  std::lock_guard lock(mu);
  return events.size();
}

std::vector<std::string> compare_events_with_keys(const std::vector<client::WatchEvent>& events,
                                                  const std::vector<client::KeyValue>& kvs) {
  std::vector<std::string> diffs;
  std::vector<client::KeyValue> expected = kvs;
  std::sort(expected.begin(), expected.end(),
            [](const auto& a, const auto& b) { return a.mod_revision < b.mod_revision; });
  int64_t last_revision = 0;
  std::map<std::string, int> seen;
  for (const auto& e : events) {
    if (e.kv.mod_revision < last_revision) {
      diffs.push_back("out of order: " + e.kv.key + " at " + std::to_string(e.kv.mod_revision));
    }
    last_revision = e.kv.mod_revision;
    if (++seen[e.kv.key] > 1) diffs.push_back("duplicate: " + e.kv.key);
  }
  size_t i = 0, j = 0;
  while (i < events.size() || j < expected.size()) {
    if (diffs.size() > 20) break;
    if (j == expected.size() || (i < events.size() && events[i].kv.mod_revision < expected[j].mod_revision)) {
      diffs.push_back("event not in the key space: " + events[i].kv.key);
      ++i;
    } else if (i == events.size() || expected[j].mod_revision < events[i].kv.mod_revision) {
      diffs.push_back("gap: no event for " + expected[j].key + " at " + std::to_string(expected[j].mod_revision));
      ++j;
    } else {
      if (events[i].kv.key != expected[j].key || events[i].kv.value != expected[j].value ||
          events[i].type != client::WatchEvent::Type::kPut) {
        diffs.push_back("event differs at revision " + std::to_string(expected[j].mod_revision));
      }
      ++i;
      ++j;
    }
  }
  return diffs;
}

void print_summary(const std::string& name, const WriteLoad& load, const WriteCheck& check, int leader_changes) {
  std::printf("fault summary [%s]: acknowledged=%zu lost=%zu duplicated=%zu unknown=%zu (present %zu) refused=%zu "
              "phantom=%zu leader_changes=%d max_unavailability_ms=%lld\n",
              name.c_str(), load.count(WriteOutcome::State::kAcked), check.lost, check.duplicated,
              load.count(WriteOutcome::State::kUnknown), check.unknown_present,
              load.count(WriteOutcome::State::kRefused), check.phantom, leader_changes,
              static_cast<long long>(load.max_gap_ms()));
  std::fflush(stdout);
}

}  // namespace corral::fault
