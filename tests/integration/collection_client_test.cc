// The agent-side client API (client/collection.h) against a real cluster:
// a registration comes back by itself after its lease is lost; an
// assignment watch sees tasks arrive and leave; a collector whose task moved
// is fenced and can never overwrite its successor's checkpoint.
#include <catch2/catch.hpp>

#include <mutex>

#include "client/collection.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;
namespace rec = corral::schema::records;
namespace collection = corral::client::collection;

namespace {

collection::RegistrationSpec collector_spec(const std::string& id) {
  collection::RegistrationSpec spec;
  spec.agent_id = id;
  spec.agent.ip = "10.0.0.1";
  spec.agent.collector = true;
  spec.ttl_seconds = 5;
  return spec;
}

collection::RegistrationSpec source_spec(int streams) {
  collection::RegistrationSpec spec;
  spec.agent_id = "src";
  spec.agent.ip = "10.0.0.9";
  spec.agent.source = true;
  spec.agent.endpoint = "tcp://127.0.0.1:20999";
  for (int i = 0; i < streams; ++i) {
    spec.streams.push_back({rec::TaskName{"web", "t" + std::to_string(i), "10.0.0.9"},
                            rec::StreamRecord{"src", "tcp://127.0.0.1:20999", {"/var/log/x.log"}, ""}});
  }
  spec.ttl_seconds = 5;
  return spec;
}

struct Held {
  std::mutex mu;
  std::map<std::string, collection::Assignment> now;
  size_t size() {
    std::lock_guard l(mu);
    return now.size();
  }
  std::map<std::string, collection::Assignment> get() {
    std::lock_guard l(mu);
    return now;
  }
  collection::AssignmentWatch::ChangeCallback callback() {
    return [this](const std::map<std::string, collection::Assignment>& a, int64_t) {
      std::lock_guard l(mu);
      now = a;
    };
  }
};

}  // namespace

TEST_CASE("a registration whose lease is lost registers again by itself", "[integration][collection]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  auto other = cluster.client();
  collection::Registration reg(*c, collector_spec("c1"), nullptr);
  require_ok(reg.start(), "register");
  const int64_t first = reg.lease();
  REQUIRE(first != 0);
  require_ok(other->lease_revoke(first), "revoke the agent's lease from elsewhere");
  REQUIRE(wait_until([&] { return reg.registrations() >= 2; }, 10s));
  REQUIRE(wait_until([&] {
    auto got = other->get(rec::agent_key("c1"));
    return got.ok() && got->kvs.size() == 1 && got->kvs[0].lease == reg.lease() && reg.lease() != first;
  }, 10s));
  reg.stop(true);
  auto gone = require_ok(other->get(rec::agent_key("c1")), "get after deregister");
  CHECK(gone.kvs.empty());
}

TEST_CASE("a bad registration is refused before anything is written", "[integration][collection]") {
  Cluster cluster(ClusterOptions{1});
  cluster.start();
  auto c = cluster.client();
  auto spec = collector_spec("bad id");
  collection::Registration reg(*c, spec, nullptr);
  auto s = reg.start();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kBadRequest);
  auto spec2 = source_spec(1);
  spec2.streams[0].second.endpoint = "not-an-endpoint";
  collection::Registration reg2(*c, spec2, nullptr);
  auto s2 = reg2.start();
  REQUIRE_FALSE(s2.ok());
  CHECK_THAT(s2.error().message, Catch::Contains("'endpoint'"));
  CHECK(require_ok(c->lease_list(), "leases").ids.empty());
}

TEST_CASE("a collector whose task moved is fenced and cannot overwrite its successor's checkpoint",
          "[integration][collection]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  collection::Registration c1(*c, collector_spec("c1"), nullptr);
  require_ok(c1.start(), "register c1");
  Held held1;
  collection::AssignmentWatch w1(*c, "c1", held1.callback(), nullptr);
  require_ok(w1.start(), "watch c1");
  collection::Registration src(*c, source_spec(4), nullptr);
  require_ok(src.start(), "register source");
  REQUIRE(wait_until([&] { return held1.size() == 4; }, 10s));
  auto task = held1.get().begin()->second;
  rec::CheckpointRecord cp{"f1", 100, 200, task.epoch, "c1", 3};
  require_ok(collection::commit_checkpoint(*c, "c1", task.task, task.epoch, cp), "c1 commits");

  // c2 joins, c1 dies (its lease ends without a word): its tasks move at once.
  collection::Registration c2(*c, collector_spec("c2"), nullptr);
  require_ok(c2.start(), "register c2");
  Held held2;
  collection::AssignmentWatch w2(*c, "c2", held2.callback(), nullptr);
  require_ok(w2.start(), "watch c2");
  c1.stop(true);
  REQUIRE(wait_until([&] { return held2.size() == 4; }, 10s));
  auto moved = held2.get().at(task.task.id());
  CHECK(moved.epoch > task.epoch);
  auto resumed = require_ok(collection::load_checkpoint(*c, task.task), "load");
  REQUIRE(resumed.has_value());
  CHECK(resumed->offset == 100);  // the successor resumes where c1 committed

  rec::CheckpointRecord cp2{"f1", 500, 600, moved.epoch, "c2", 9};
  require_ok(collection::commit_checkpoint(*c, "c2", moved.task, moved.epoch, cp2), "c2 commits");
  // The stale collector tries to write an older position: fenced, nothing written.
  rec::CheckpointRecord stale{"f1", 150, 200, task.epoch, "c1", 4};
  auto s = collection::commit_checkpoint(*c, "c1", task.task, task.epoch, stale);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kFenced);
  auto r = collection::release(*c, "c1", task.task, task.epoch, stale);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kFenced);
  auto now = require_ok(collection::load_checkpoint(*c, task.task), "load after");
  REQUIRE(now.has_value());
  CHECK(now->offset == 500);
  CHECK(now->collector == "c2");
  // Even with c2's own (now current) epoch a wrong collector name is fenced.
  CHECK(collection::commit_checkpoint(*c, "c1", moved.task, moved.epoch, stale).error().code == ErrorCode::kFenced);
}

TEST_CASE("a drained collector releases with its final checkpoint and the successor starts there",
          "[integration][collection]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  collection::Registration c1(*c, collector_spec("c1"), nullptr), c2(*c, collector_spec("c2"), nullptr);
  require_ok(c1.start(), "register c1");
  collection::Registration src(*c, source_spec(2), nullptr);
  require_ok(src.start(), "register source");
  Held held1, held2;
  collection::AssignmentWatch w1(*c, "c1", held1.callback(), nullptr);
  require_ok(w1.start(), "watch c1");
  REQUIRE(wait_until([&] { return held1.size() == 2; }, 10s));
  require_ok(c2.start(), "register c2");
  collection::AssignmentWatch w2(*c, "c2", held2.callback(), nullptr);
  require_ok(w2.start(), "watch c2");
  require_ok(c->put(rec::drain_key("c1"), "{}"), "drain c1");
  REQUIRE(wait_until([&] {
    auto h = held1.get();
    return h.size() == 2 && std::all_of(h.begin(), h.end(), [](const auto& a) { return a.second.record.revoking; });
  }, 10s));
  CHECK(held2.size() == 0);  // nothing moves before the release
  for (const auto& [id, a] : held1.get()) {
    CHECK(a.record.to == "c2");
    rec::CheckpointRecord final_cp{"f9", 4242, 4242, a.epoch, "c1", 42};
    require_ok(collection::release(*c, "c1", a.task, a.epoch, final_cp), "release");
  }
  REQUIRE(wait_until([&] { return held2.size() == 2 && held1.size() == 0; }, 10s));
  for (const auto& [id, a] : held2.get()) {
    CHECK_FALSE(a.record.revoking);
    auto cp = require_ok(collection::load_checkpoint(*c, a.task), "load");
    REQUIRE(cp.has_value());
    CHECK(cp->offset == 4242);
  }
}
