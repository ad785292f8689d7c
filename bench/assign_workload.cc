#include "bench/assign_workload.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "client/lease_keeper.h"
#include "schema/log_records.h"

namespace corral::bench {

namespace rec = corral::schema::records;
using namespace corral::client;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kStreamsPerSource = 100;
constexpr size_t kRequestsInFlight = 64;
constexpr int64_t kScanPageKeys = 10'000;
constexpr auto kSettleTimeout = std::chrono::seconds(120);
constexpr int64_t kSlackPermille = 250;  // corrald's default --assign-load-slack

std::string collector_id(int i) { return "bench-col-" + std::to_string(i); }

// Where every task is: task id -> (owner, revoking target or "").
struct Placement {
  std::string owner;
  std::string target;
};
using Assignments = std::map<std::string, Placement>;

Assignments scan(Client& c) {
  Assignments out;
  std::string from(rec::kAssignPrefix);
  const std::string end = prefix_range_end(from);
  while (true) {
    RangeRequest r;
    r.key = from;
    r.range_end = end;
    r.limit = kScanPageKeys;
    auto got = c.range(r);
    if (!got.ok()) {
      std::fprintf(stderr, "assign: scan: %s\n", to_string(got.error()).c_str());
      std::exit(1);
    }
    for (const auto& kv : got->kvs) {
      auto key = rec::parse_assign_key(kv.key);
      auto a = rec::parse_assignment(kv.value);
      auto* ar = std::get_if<rec::AssignmentRecord>(&a);
      if (key && ar) out[key->task.id()] = Placement{key->collector, ar->revoking ? ar->to : std::string()};
    }
    if (!got->more || got->kvs.empty()) break;
    from = got->kvs.back().key + std::string(1, '\0');
  }
  return out;
}

// Load as the engine counts it: a revoking task at its target.
std::map<std::string, int64_t> loads(const Assignments& a) {
  std::map<std::string, int64_t> out;
  for (const auto& [task, p] : a) ++out[p.target.empty() ? p.owner : p.target];
  return out;
}

int64_t bound(int64_t streams, int64_t collectors) {
  const int64_t num = streams * (1000 + kSlackPermille);
  const int64_t den = collectors * 1000;
  return (num + den - 1) / den;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Sends every registration with at most kRequestsInFlight outstanding over
// the connections; returns how many failed.
int64_t register_all(std::vector<std::unique_ptr<Client>>& cs, std::vector<LeaseGrantRequest> requests,
                     std::vector<int64_t>* leases) {
  std::vector<std::future<Result<LeaseGrantResult>>> window;
  int64_t failed = 0;
  leases->assign(requests.size(), 0);
  size_t done = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    window.push_back(cs[i % cs.size()]->call_future(std::move(requests[i])));
    while (window.size() - done >= kRequestsInFlight || (i + 1 == requests.size() && done < window.size())) {
      auto r = window[done].get();
      if (r.ok()) (*leases)[done] = r->id; else ++failed;
      ++done;
    }
  }
  return failed;
}

std::vector<LeaseGrantRequest> collector_registrations(int from, int count, int64_t ttl) {
  std::vector<LeaseGrantRequest> out;
  for (int i = from; i < from + count; ++i) {
    rec::AgentRecord a;
    a.ip = "10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    a.collector = true;
    out.push_back(LeaseGrantRequest{ttl, 0, {{rec::agent_key(collector_id(i)), rec::encode_agent(a)}}});
  }
  return out;
}

std::vector<LeaseGrantRequest> source_registrations(int streams, int64_t ttl) {
  std::vector<LeaseGrantRequest> out;
  for (int s = 0; s * kStreamsPerSource < streams; ++s) {
    const std::string ip = "10.8." + std::to_string(s / 250) + "." + std::to_string(s % 250);
    const std::string agent = "bench-src-" + std::to_string(s);
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(20000 + s % 10000);
    LeaseGrantRequest g{ttl, 0, {}};
    for (int j = 0; j < kStreamsPerSource && s * kStreamsPerSource + j < streams; ++j) {
      rec::TaskName t{"app" + std::to_string(j % 10), "topic" + std::to_string(j), ip};
      g.puts.push_back({rec::stream_key(t), rec::encode_stream({agent, endpoint, {}, ""})});
    }
    out.push_back(std::move(g));
  }
  return out;
}

// Records when the watch first shows each task at a collector other than `dead`.
struct MoveWatch {
  std::mutex mu;
  std::condition_variable cv;
  std::string dead;
  std::map<std::string, Clock::time_point> seen;  // task -> when
  WatchCallback callback() {
    return [this](const WatchUpdate& u) {
      const auto now = Clock::now();
      std::lock_guard lock(mu);
      for (const auto& ev : u.events) {
        if (ev.type != WatchEvent::Type::kPut) continue;
        auto key = rec::parse_assign_key(ev.kv.key);
        if (key && key->collector != dead) seen.emplace(key->task.id(), now);
      }
      cv.notify_all();
    };
  }
};

}  // namespace

int assign_workload(const AssignFlags& f, std::vector<std::unique_ptr<Client>>& cs) {
  Client& c0 = *cs[0];
  std::vector<std::unique_ptr<LeaseKeeper>> keepers;
  for (auto& c : cs) keepers.push_back(std::make_unique<LeaseKeeper>(*c, [](int64_t, const Error&) {}));
  std::vector<int64_t> collector_leases, source_leases;
  int64_t errors = register_all(cs, collector_registrations(0, f.collectors, f.ttl_seconds), &collector_leases);
  const auto t0 = Clock::now();
  errors += register_all(cs, source_registrations(f.streams, f.ttl_seconds), &source_leases);
  const double register_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (size_t i = 0; i < collector_leases.size(); ++i) (void)keepers[i % keepers.size()]->add(collector_leases[i], f.ttl_seconds);
  for (size_t i = 0; i < source_leases.size(); ++i) (void)keepers[i % keepers.size()]->add(source_leases[i], f.ttl_seconds);

  Assignments before = scan(c0);
  // The collector that dies: the one holding most.
  auto load_before = loads(before);
  auto victim = std::max_element(load_before.begin(), load_before.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
  const std::string dead = victim->first;
  const int victim_index = std::stoi(dead.substr(std::string("bench-col-").size()));
  std::set<std::string> held;
  for (const auto& [task, p] : before) {
    if (p.owner == dead) held.insert(task);
  }

  MoveWatch mw;
  mw.dead = dead;
  WatchOptions w;
  w.key = std::string(rec::kAssignPrefix);
  w.range_end = prefix_range_end(w.key);
  auto rev = c0.status();
  w.start_revision = rev.ok() ? rev->header.revision + 1 : 0;
  WatchHandle handle = c0.watch(w, mw.callback());
  const auto killed_at = Clock::now();
  auto revoked = c0.lease_revoke(collector_leases[static_cast<size_t>(victim_index)]);
  const double revoke_ms = std::chrono::duration<double, std::milli>(Clock::now() - killed_at).count();
  if (!revoked.ok()) ++errors;
  std::vector<double> reassign_ms;
  {
    std::unique_lock lock(mw.mu);
    mw.cv.wait_for(lock, kSettleTimeout, [&] {
      return std::all_of(held.begin(), held.end(), [&](const std::string& t) { return mw.seen.count(t) > 0; });
    });
    for (const auto& t : held) {
      auto it = mw.seen.find(t);
      if (it != mw.seen.end()) reassign_ms.push_back(std::chrono::duration<double, std::milli>(it->second - killed_at).count());
    }
  }
  handle.cancel();
  Assignments after_death = scan(c0);
  int64_t moved = 0;
  for (const auto& [task, p] : after_death) {
    auto b = before.find(task);
    if (b != before.end() && b->second.owner != p.owner) ++moved;
  }

  // A new collector joins: it is marked to take its share from the others.
  std::vector<int64_t> joined;
  errors += register_all(cs, collector_registrations(f.collectors, 1, f.ttl_seconds), &joined);
  Assignments after_join = scan(c0);
  const std::string newcomer = collector_id(f.collectors);
  int64_t join_moved = 0;
  for (const auto& [task, p] : after_join) join_moved += p.target == newcomer || p.owner == newcomer;
  const int64_t live = f.collectors;  // one died, one joined
  auto final_loads = loads(after_join);
  int64_t max_load = 0;
  for (const auto& [id, n] : final_loads) max_load = std::max(max_load, n);

  // Streams first: with them gone, the collectors' revokes move nothing.
  keepers.clear();
  for (auto id : source_leases) if (id != 0) (void)c0.lease_revoke(id);
  for (auto id : collector_leases) if (id != 0) (void)c0.lease_revoke(id);
  for (auto id : joined) if (id != 0) (void)c0.lease_revoke(id);

  std::printf(
      "{\"workload\":\"assign streams=%d collectors=%d\",\"ops\":%d,\"errors\":%lld,\"seconds\":%.3f,"
      "\"ops_per_sec\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"streams\":%d,\"collectors\":%d,"
      "\"register_seconds\":%.3f,\"reassign_p50_ms\":%.3f,\"reassign_p99_ms\":%.3f,\"reassign_max_ms\":%.3f,"
      "\"reassigned\":%zu,\"revoke_ms\":%.3f,\"moved\":%lld,\"min_moved\":%zu,\"join_moved\":%lld,"
      "\"join_min_moved\":%lld,\"max_load\":%lld,\"load_bound\":%lld}\n",
      f.streams, f.collectors, f.streams, static_cast<long long>(errors), register_seconds,
      f.streams / register_seconds, pct(reassign_ms, 0.5), pct(reassign_ms, 0.99), f.streams, f.collectors,
      register_seconds, pct(reassign_ms, 0.5), pct(reassign_ms, 0.99), pct(reassign_ms, 1.0), reassign_ms.size(),
      revoke_ms, static_cast<long long>(moved), held.size(), static_cast<long long>(join_moved),
      static_cast<long long>(f.streams / live), static_cast<long long>(max_load),
      static_cast<long long>(bound(f.streams, live)));
  std::fflush(stdout);
  return errors == 0 && reassign_ms.size() == held.size() ? 0 : 1;
}

}  // namespace corral::bench
