// Assignment in apply: agents and streams registered through ordinary
// requests get their assignment keys written in the same revision; bad
// records change nothing; moves, drains and releases follow
// schema/records.md; a reloaded state machine decides as the live one did.
#include <catch2/catch.hpp>

#include "schema/log_records.h"
#include "tests/unit/server/applier.h"

using namespace corral;
using namespace corral::server;
namespace rec = corral::schema::records;
using testing::Applier;

namespace {

std::string collector_record(int64_t capacity = 1) {
  rec::AgentRecord a;
  a.ip = "10.0.0.1";
  a.collector = true;
  a.capacity = capacity;
  return rec::encode_agent(a);
}

std::string stream_record(const std::string& agent = "src") {
  return rec::encode_stream(rec::StreamRecord{agent, "tcp://10.0.0.9:7070", {}, ""});
}

// Grants a lease with `puts`; returns the lease id.
int64_t grant(Applier& a, std::vector<std::pair<std::string, std::string>> puts) {
  auto reply = a.apply([&](testing::wire::Request::Builder r) {
    auto g = r.initLeaseGrant();
    g.setTtl(30);
    auto list = g.initPuts(static_cast<unsigned>(puts.size()));
    for (unsigned i = 0; i < puts.size(); ++i) {
      list[i].setKey(testing::as_data(puts[i].first));
      list[i].setValue(testing::as_data(puts[i].second));
    }
  });
  auto resp = reply.get().getResponse();
  if (resp.isError()) FAIL(resp.getError().getMessage().cStr());
  return resp.getLeaseGrant().getId();
}

void revoke(Applier& a, int64_t lease) {
  a.apply([lease](testing::wire::Request::Builder r) { r.initLeaseRevoke().setId(lease); });
}

std::string error_of(Applier& a, const std::function<void(testing::wire::Request::Builder)>& fill) {
  auto reply = a.apply(fill);
  auto resp = reply.get().getResponse();
  return resp.isError() ? std::string(resp.getError().getMessage().cStr()) : std::string();
}

// Every assignment key, as stored.
std::vector<kv::KeyValue> assignments(Applier& a) {
  auto r = a.sm->kv().range(rec::kAssignPrefix, kv::prefix_end(rec::kAssignPrefix));
  REQUIRE(r.ok());
  return r->kvs;
}

std::string task_key(int i) { return "/apps/web/access/10.0.1." + std::to_string(i); }

rec::AssignmentRecord parsed_assignment(const kv::KeyValue& kv) {
  auto r = rec::parse_assignment(kv.value);
  REQUIRE(std::holds_alternative<rec::AssignmentRecord>(r));
  return std::get<rec::AssignmentRecord>(r);
}

}  // namespace

TEST_CASE("assignment: a stream gets its collector in the revision that registered it", "[server][assign]") {
  Applier a;
  grant(a, {{"/corral/agents/c1", collector_record()}});
  grant(a, {{"/corral/agents/src", R"({"ip":"10.0.0.9","roles":["source"],"endpoint":"tcp://10.0.0.9:7070"})"},
            {task_key(1), stream_record()}});
  const auto revision = a.sm->kv().current_revision();
  auto keys = assignments(a);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].key == "/corral/assign/c1/web/access/10.0.1.1");
  CHECK(keys[0].create_revision == revision);
  CHECK(keys[0].value == R"({"stream":"/apps/web/access/10.0.1.1","agent":"src","endpoint":"tcp://10.0.0.9:7070","state":"active","epoch":)" +
                             std::to_string(revision) + "}");
}

TEST_CASE("assignment: a malformed record is refused, naming the field, and changes nothing", "[server][assign]") {
  Applier a;
  grant(a, {{"/corral/agents/c1", collector_record()}});
  const auto revision = a.sm->kv().current_revision();
  CHECK_THAT(error_of(a, testing::put("/corral/agents/c2", R"({"ip":"1.2.3.4","roles":["collector"],"capacity":0})")),
             Catch::Contains("'capacity'"));
  CHECK_THAT(error_of(a, testing::put(task_key(1), R"({"agent":"src"})")), Catch::Contains("'endpoint' is required"));
  CHECK_THAT(error_of(a, testing::put("/corral/assign/c1/web/access/10.0.1.1", "{}")),
             Catch::Contains("written by the coordinator"));
  // A lease grant whose keys hold one bad record grants nothing.
  CHECK_THAT(error_of(a, [](testing::wire::Request::Builder r) {
               auto g = r.initLeaseGrant();
               g.setTtl(30);
               auto list = g.initPuts(2);
               list[0].setKey(testing::as_data(task_key(2)));
               list[0].setValue(testing::as_data(stream_record()));
               list[1].setKey(testing::as_data("/corral/agents/c3"));
               list[1].setValue(testing::as_data("{not json"));
             }),
             Catch::Contains("not valid JSON"));
  CHECK(a.sm->kv().current_revision() == revision);
  CHECK(assignments(a).empty());
  CHECK(a.sm->lessor().list().size() == 1);
}

TEST_CASE("assignment: a dead collector's tasks move in the revision of its lease's end", "[server][assign]") {
  Applier a;
  auto l1 = grant(a, {{"/corral/agents/c1", collector_record()}});
  std::vector<std::pair<std::string, std::string>> streams;
  for (int i = 0; i < 6; ++i) streams.push_back({task_key(i), stream_record()});
  grant(a, streams);
  REQUIRE(assignments(a).size() == 6);
  grant(a, {{"/corral/agents/c2", collector_record()}});
  // c2 joined: it takes its share cooperatively (revoking from c1), nothing moved yet.
  int revoking = 0;
  for (const auto& kv : assignments(a)) revoking += kv.value.find("\"revoking\"") != std::string::npos;
  CHECK(revoking == 3);
  CHECK(assignments(a).size() == 6);

  revoke(a, l1);
  const auto revision = a.sm->kv().current_revision();
  auto keys = assignments(a);
  REQUIRE(keys.size() == 6);
  for (const auto& kv : keys) {
    CHECK(kv.key.starts_with("/corral/assign/c2/"));
    CHECK(kv.value.find("\"active\"") != std::string::npos);
    if (kv.create_revision == revision) continue;
    // Tasks c2 got earlier were revoking to it from c1, created now too.
    FAIL("task kept an epoch from before the move: " << kv.key);
  }
}

TEST_CASE("assignment: a drained collector's tasks move when it releases them, with a new epoch", "[server][assign]") {
  Applier a;
  grant(a, {{"/corral/agents/c1", collector_record()}, {"/corral/agents/c2", collector_record()}});
  grant(a, {{task_key(1), stream_record()}, {task_key(2), stream_record()}});
  a.apply(testing::put("/corral/drain/c1", ""));
  std::string held;
  for (const auto& kv : assignments(a)) {
    if (kv.key.starts_with("/corral/assign/c1/")) held = kv.key;
  }
  REQUIRE(!held.empty());
  auto before = a.sm->kv().range(held);
  REQUIRE(before->kvs[0].value.find(R"("state":"revoking","to":"c2")") != std::string::npos);
  const auto epoch = before->kvs[0].create_revision;

  a.apply(testing::del(held));  // the release
  const auto revision = a.sm->kv().current_revision();
  auto keys = assignments(a);
  REQUIRE(keys.size() == 2);
  for (const auto& kv : keys) CHECK(kv.key.starts_with("/corral/assign/c2/"));
  auto moved = a.sm->kv().range("/corral/assign/c2/" + held.substr(std::string("/corral/assign/c1/").size()));
  REQUIRE(moved->kvs.size() == 1);
  CHECK(moved->kvs[0].create_revision == revision);
  CHECK(moved->kvs[0].create_revision != epoch);
}

TEST_CASE("assignment: a reloaded state machine holds the same assignment state", "[server][assign]") {
  Applier a;
  grant(a, {{"/corral/agents/c1", collector_record(2)}, {"/corral/agents/c2", collector_record()}});
  std::vector<std::pair<std::string, std::string>> streams;
  for (int i = 0; i < 20; ++i) streams.push_back({task_key(i), stream_record()});
  grant(a, streams);
  a.apply(testing::put("/corral/drain/c2", ""));
  grant(a, {{"/corral/agents/c3", collector_record()}});
  auto loads = a.sm->assignment().engine().loads();
  auto revoking = a.sm->assignment().revoking();
  REQUIRE(a.sm->reload().ok());
  auto reloaded = a.sm->assignment().engine().loads();
  REQUIRE(reloaded.size() == loads.size());
  for (size_t i = 0; i < loads.size(); ++i) {
    CHECK(reloaded[i].id == loads[i].id);
    CHECK(reloaded[i].owned == loads[i].owned);
    CHECK(reloaded[i].load == loads[i].load);
    CHECK(reloaded[i].draining == loads[i].draining);
  }
  CHECK(a.sm->assignment().revoking() == revoking);
  CHECK(a.sm->assignment().engine().check_invariants().empty());
}

TEST_CASE("assignment: two state machines fed the same requests write byte-identical assignments", "[server][assign]") {
  Applier a, b;
  for (Applier* x : {&a, &b}) {
    for (int c = 0; c < 5; ++c) grant(*x, {{"/corral/agents/c" + std::to_string(c), collector_record(1 + c % 3)}});
    for (int i = 0; i < 40; ++i) x->apply(testing::put(task_key(i), stream_record()));
    x->apply(testing::del("/corral/agents/c2"));
    x->apply(testing::put("/corral/rebalance", ""));
  }
  auto ka = assignments(a), kb = assignments(b);
  REQUIRE(ka.size() == 40);
  CHECK(ka == kb);
}

// The assignment value copies the stream's agent and endpoint: a stream
// record overwritten with another endpoint rewrites it in the same revision,
// one overwritten with the same endpoint leaves it. A member's store reads
// no old record for a put (kv::MvccStore::set_prev_kv_in_events): the
// driver reads it as of the revision before.
TEST_CASE("assignment: a stream's new endpoint is in its assignment in the same revision", "[server][assign]") {
  Applier a;
  grant(a, {{"/corral/agents/c1", collector_record()}});
  const int64_t source = grant(a, {{task_key(1), stream_record("src")}});
  (void)source;
  auto before = assignments(a);
  REQUIRE(before.size() == 1);
  REQUIRE(parsed_assignment(before[0]).endpoint == "tcp://10.0.0.9:7070");

  auto put_stream = [&](const std::string& endpoint) {
    auto reply = a.apply([&](testing::wire::Request::Builder r) {
      auto p = r.initPut();
      p.setKey(testing::as_data(task_key(1)));
      p.setValue(testing::as_data(rec::encode_stream(rec::StreamRecord{"src", endpoint, {}, ""})));
    });
    REQUIRE_FALSE(reply.get().getResponse().isError());
    return reply.get().getResponse().getHeader().getRevision();
  };
  const int64_t same = put_stream("tcp://10.0.0.9:7070");
  auto after_same = assignments(a);
  REQUIRE(after_same.size() == 1);
  CHECK(after_same[0].mod_revision == before[0].mod_revision);  // nothing to rewrite

  const int64_t moved = put_stream("tcp://10.0.0.9:7171");
  CHECK(moved > same);
  auto after = assignments(a);
  REQUIRE(after.size() == 1);
  CHECK(after[0].mod_revision == moved);
  CHECK(parsed_assignment(after[0]).endpoint == "tcp://10.0.0.9:7171");
}
