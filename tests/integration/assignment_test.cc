// Assignment across a real 3-member cluster: 50 collectors and 500 streams
// registered through the client library, then churn (collectors dying and
// coming back, drains, streams coming and going, releases of revoking tasks,
// a kill -9 of a corrald member). A watch of the whole key space replays
// every revision into a model of the log-collection keys, and the rules of
// schema/records.md are checked after each one; at the end every member
// holds byte-identical assignments.
#include <catch2/catch.hpp>

#include <signal.h>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "client/client.h"
#include "client/collection.h"
#include "schema/log_records.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;
namespace rec = corral::schema::records;

namespace {

constexpr int kCollectors = 50;
constexpr int kSources = 10;
constexpr int kStreamsPerSource = 50;
constexpr int kChurnSteps = 60;
constexpr int64_t kSlackPermille = 250;  // corrald's default

// The log-collection keys as a watch of "/" replays them, one revision at a time.
class Model {
 public:
  void apply(const WatchEvent& ev) {
    const auto& key = ev.kv.key;
    const bool put = ev.type == WatchEvent::Type::kPut;
    if (auto id = rec::agent_id_of(key)) {
      if (put) agents_[*id] = ev.kv.value; else agents_.erase(*id);
    } else if (auto d = rec::drained_id_of(key)) {
      if (put) drained_.insert(*d); else drained_.erase(*d);
    } else if (auto t = rec::task_of_stream_key(key)) {
      if (put) streams_[t->id()] = ev.kv.value; else streams_.erase(t->id());
    } else if (auto a = rec::parse_assign_key(key)) {
      if (put) assigns_[key] = ev.kv; else assigns_.erase(key);
    }
  }
  // What breaks a rule now; empty when all hold.
  std::string check() const {
    std::map<std::string, int64_t> capacity;  // live collectors
    for (const auto& [id, value] : agents_) {
      auto a = rec::parse_agent(value);
      if (auto* r = std::get_if<rec::AgentRecord>(&a); r && r->collector) capacity[id] = r->capacity;
    }
    int64_t total_capacity = 0;
    for (const auto& [id, c] : capacity) total_capacity += drained_.count(id) ? 0 : c;
    std::map<std::string, int> owners_of_task;
    std::map<std::string, int64_t> load;
    for (const auto& [key, kv] : assigns_) {
      auto k = rec::parse_assign_key(key);
      auto a = rec::parse_assignment(kv.value);
      auto* r = std::get_if<rec::AssignmentRecord>(&a);
      if (!r) return key + ": unreadable assignment";
      if (!capacity.count(k->collector)) return key + ": owner is not a live collector";
      if (!streams_.count(k->task.id())) return key + ": no such stream";
      if (r->epoch != kv.create_revision) return key + ": epoch is not the key's create_revision";
      auto s = rec::parse_stream(streams_.at(k->task.id()));
      if (std::get<rec::StreamRecord>(s).endpoint != r->endpoint) return key + ": stale source endpoint";
      ++owners_of_task[k->task.id()];
      if (r->revoking) {
        if (!capacity.count(r->to) || drained_.count(r->to)) return key + ": revoking to " + r->to + ", not a live undrained collector";
        ++load[r->to];
      } else {
        ++load[k->collector];
      }
    }
    for (const auto& [task, n] : owners_of_task) {
      if (n != 1) return task + ": " + std::to_string(n) + " owners";
    }
    if (total_capacity > 0 && owners_of_task.size() != streams_.size()) {
      return std::to_string(streams_.size() - owners_of_task.size()) + " streams unassigned";
    }
    const int64_t streams = static_cast<int64_t>(streams_.size());
    for (const auto& [id, n] : load) {
      if (drained_.count(id) || total_capacity == 0) continue;
      const __int128 num = static_cast<__int128>(streams) * capacity[id] * (1000 + kSlackPermille);
      const __int128 den = static_cast<__int128>(total_capacity) * 1000;
      const int64_t bound = static_cast<int64_t>((num + den - 1) / den);
      if (n > bound) return id + " holds " + std::to_string(n) + " above its bound " + std::to_string(bound);
    }
    return {};
  }
  size_t assignments() const { return assigns_.size(); }
  size_t streams() const { return streams_.size(); }
  std::vector<std::pair<std::string, int64_t>> revoking() const {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& [key, kv] : assigns_) {
      if (kv.value.find("\"revoking\"") != std::string::npos) out.push_back({key, kv.create_revision});
    }
    return out;
  }

 private:
  std::map<std::string, std::string> agents_, streams_;
  std::set<std::string> drained_;
  std::map<std::string, KeyValue> assigns_;
};

// Replays the watch into the model and checks it after every revision.
struct Checker {
  std::mutex mu;
  Model model;
  int64_t revisions = 0;
  std::vector<std::string> broken;
  std::optional<Error> error;
  WatchCallback callback() {
    return [this](const WatchUpdate& u) {
      std::lock_guard lock(mu);
      if (u.error) error = u.error;
      for (size_t i = 0; i < u.events.size(); ++i) {
        model.apply(u.events[i]);
        const bool revision_ends = i + 1 == u.events.size() ||
                                   u.events[i + 1].kv.mod_revision != u.events[i].kv.mod_revision;
        if (!revision_ends) continue;
        ++revisions;
        auto problem = model.check();
        if (!problem.empty() && broken.size() < 10) {
          broken.push_back("revision " + std::to_string(u.events[i].kv.mod_revision) + ": " + problem);
        }
      }
    };
  }
};

std::string collector_id(int i) { return "col-" + std::to_string(i); }

rec::AgentRecord collector_record(int i) {
  rec::AgentRecord a;
  a.ip = "10.1.0." + std::to_string(i);
  a.collector = true;
  a.capacity = 1 + i % 3;
  return a;
}

// Registers collector i with its own lease; returns the lease.
int64_t register_collector(Client& c, int i) {
  auto g = c.lease_grant_with_keys(60, {{rec::agent_key(collector_id(i)), rec::encode_agent(collector_record(i))}});
  REQUIRE(g.ok());
  return g->id;
}

int64_t register_source(Client& c, int s, int streams) {
  rec::AgentRecord a;
  a.ip = "10.2.0." + std::to_string(s);
  a.source = true;
  a.endpoint = "tcp://127.0.0.1:" + std::to_string(20000 + s);
  std::vector<LeaseKeyPut> puts{{rec::agent_key("src-" + std::to_string(s)), rec::encode_agent(a)}};
  for (int j = 0; j < streams; ++j) {
    rec::TaskName t{"app" + std::to_string(j % 5), "topic" + std::to_string(j), a.ip};
    puts.push_back({rec::stream_key(t), rec::encode_stream({"src-" + std::to_string(s), a.endpoint, {}, ""})});
  }
  auto g = c.lease_grant_with_keys(60, std::move(puts));
  REQUIRE(g.ok());
  return g->id;
}

// Every assignment key and value as member i serves it (serializable read).
std::vector<KeyValue> assignments_on(Cluster& cluster, size_t i) {
  auto c = cluster.client({cluster.member(i).client_url()});
  RangeRequest r;
  r.key = std::string(rec::kAssignPrefix);
  r.range_end = prefix_range_end(r.key);
  r.serializable = true;
  auto got = c->range(r);
  REQUIRE(got.ok());
  return got->kvs;
}

}  // namespace

TEST_CASE("assignment holds its rules after every revision under churn and a member's kill -9",
          "[integration][assign]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  Checker checker;
  WatchOptions w;
  w.key = "/";
  w.range_end = std::string(1, '\0');
  w.start_revision = 1;
  WatchHandle h = c->watch(w, checker.callback());

  std::map<int, int64_t> collector_lease;
  for (int i = 0; i < kCollectors; ++i) collector_lease[i] = register_collector(*c, i);
  std::map<int, int64_t> source_lease;
  for (int s = 0; s < kSources; ++s) source_lease[s] = register_source(*c, s, kStreamsPerSource);
  REQUIRE(wait_until([&] { std::lock_guard l(checker.mu); return checker.model.assignments() == 500; }, 20s));

  std::mt19937_64 rng(20261130);
  for (int step = 0; step < kChurnSteps; ++step) {
    INFO("step " << step);
    switch (rng() % 6) {
      case 0: {  // a collector dies (its lease ends) and, half the time, comes back
        int i = static_cast<int>(rng() % kCollectors);
        if (collector_lease.count(i)) {
          require_ok(c->lease_revoke(collector_lease[i]), "revoke collector");
          collector_lease.erase(i);
        } else {
          collector_lease[i] = register_collector(*c, i);
        }
        break;
      }
      case 1: {  // drain or undrain
        auto key = rec::drain_key(collector_id(static_cast<int>(rng() % kCollectors)));
        if (rng() % 2) require_ok(c->put(key, "{}"), "drain"); else require_ok(c->del(key), "undrain");
        break;
      }
      case 2: {  // a source goes and comes back with fewer or more streams
        int s = static_cast<int>(rng() % kSources);
        require_ok(c->lease_revoke(source_lease[s]), "revoke source");
        source_lease[s] = register_source(*c, s, 10 + static_cast<int>(rng() % 60));
        break;
      }
      case 3: {  // collectors release what they were asked to hand over
        std::vector<std::pair<std::string, int64_t>> revoking;
        {
          std::lock_guard l(checker.mu);
          revoking = checker.model.revoking();
        }
        for (size_t k = 0; k < revoking.size() && k < 40; ++k) {
          auto key = rec::parse_assign_key(revoking[k].first);
          auto r = corral::client::collection::release(*c, key->collector, key->task, revoking[k].second, std::nullopt);
          CHECK((r.ok() || r.error().code == ErrorCode::kFenced));
        }
        break;
      }
      case 4:
        require_ok(c->put(std::string(rec::kRebalanceKey), "{}"), "rebalance");
        break;
      case 5:
        if (step > kChurnSteps / 2) break;
        {  // a member dies hard and comes back
          size_t m = static_cast<size_t>(rng() % cluster.size());
          cluster.signal_member(m, SIGKILL);
          REQUIRE(cluster.wait_for_leader());
          cluster.start_member(m);
        }
        break;
    }
  }
  // Quiet: every member applied the same revisions.
  auto last = require_ok(c->put("/test/done", "1"), "last put");
  REQUIRE(wait_until([&] { std::lock_guard l(checker.mu); return checker.model.assignments() == checker.model.streams(); }, 20s));
  {
    std::lock_guard l(checker.mu);
    INFO("revisions checked: " << checker.revisions);
    CHECK(!checker.error.has_value());
    CHECK(checker.revisions > 100);
    for (const auto& b : checker.broken) FAIL_CHECK(b);
  }
  const auto reference = assignments_on(cluster, 0);
  for (size_t m = 1; m < cluster.size(); ++m) {
    REQUIRE(wait_until([&] { return cluster.status(m) && cluster.status(m)->header.revision >= last.header.revision; }, 10s));
    CHECK(assignments_on(cluster, m) == reference);
  }
}
