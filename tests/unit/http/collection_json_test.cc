#include <catch2/catch.hpp>

#include "coordinator/http/collection_json.h"
#include "coordinator/http/route.h"
#include "schema/log_records.h"

using namespace corral::http;
namespace client = corral::client;
namespace records = corral::schema::records;

namespace {

client::KeyValue kv(std::string key, std::string value, int64_t create = 1, int64_t mod = 1, int64_t lease = 0) {
  return client::KeyValue{std::move(key), std::move(value), create, mod, 1, lease};
}

std::string collector(int64_t capacity) {
  records::AgentRecord a;
  a.ip = "10.0.0.21";
  a.collector = true;
  a.capacity = capacity;
  return records::encode_agent(a);
}

std::string stream() {
  records::StreamRecord s;
  s.agent = "web-1";
  s.endpoint = "tcp://10.0.0.11:7070";
  s.paths = {"/var/log/a.log"};
  return records::encode_stream(s);
}

std::string assignment(const records::TaskName& t, bool revoking) {
  records::AssignmentRecord a;
  a.stream = records::stream_key(t);
  a.agent = "web-1";
  a.endpoint = "tcp://10.0.0.11:7070";
  a.revoking = revoking;
  if (revoking) a.to = "c2";
  a.epoch = 7;
  return records::encode_assignment(a);
}

const records::TaskName kA{"web", "access", "10.0.0.11"};
const records::TaskName kB{"web", "error", "10.0.0.11"};
const records::TaskName kGone{"db", "slow", "10.0.0.12"};

}  // namespace

TEST_CASE("the collection read is one txn of five prefix ranges, and its answer is taken apart in order") {
  auto txn = collection_txn(100);
  REQUIRE(txn.success.size() == 5);
  CHECK(txn.compare.empty());
  auto& first = std::get<client::RangeRequest>(txn.success[0].op);
  CHECK(first.key == "/corral/agents/");
  CHECK(first.range_end == client::prefix_range_end("/corral/agents/"));
  CHECK(first.limit == 100);
  CHECK(std::get<client::RangeRequest>(txn.success[1].op).key == "/apps/");

  client::TxnResult r;
  r.header.revision = 42;
  r.succeeded = true;
  for (int i = 0; i < 5; ++i) {
    client::RangeResult range;
    range.kvs = {kv("/k" + std::to_string(i), "v")};
    range.more = i == 3;
    r.responses.push_back(client::TxnOpResult{range});
  }
  CollectionRead read;
  REQUIRE(collection_read_of(r, read));
  CHECK(read.revision == 42);
  CHECK(read.agents.at(0).key == "/k0");
  CHECK(read.drains.at(0).key == "/k4");
  CHECK(read.more);
  r.responses.pop_back();
  CollectionRead short_read;
  CHECK_FALSE(collection_read_of(r, short_read));
}

TEST_CASE("agents: roles, lease and its time left, tasks held, drain mark, a bad record with its problem") {
  CollectionRead read;
  read.revision = 9;
  read.agents = {kv("/corral/agents/c1", collector(3), 2, 2, 0x1a), kv("/corral/agents/bad", "{nope", 3, 3, 0x1b),
                 kv("/corral/agents/c2", collector(1), 4, 4, 0x1c)};
  read.assigns = {kv(records::assign_key("c1", kA), assignment(kA, false)),
                  kv(records::assign_key("c1", kB), assignment(kB, true))};
  read.drains = {kv("/corral/drain/c1", "drain")};
  CHECK(agent_leases(read, 10) == std::vector<int64_t>{0x1a, 0x1b, 0x1c});
  CHECK(agent_leases(read, 2).size() == 2);

  auto out = agents_json(read, {{0x1a, 5}, {0x1c, -1}});
  CHECK(out["revision"] == 9);
  REQUIRE(out["agents"].size() == 3);
  auto c1 = out["agents"][0];
  CHECK(c1["id"] == "c1");
  CHECK(c1["roles"] == nlohmann::json::array({"collector"}));
  CHECK(c1["capacity"] == 3);
  CHECK(c1["lease"] == "1a");
  CHECK(c1["ttl"] == 5);
  CHECK(c1["alive"] == true);
  CHECK(c1["tasks"] == 2);
  CHECK(c1["draining"] == true);
  auto bad = out["agents"][1];
  CHECK(bad["problem"].is_string());
  CHECK_FALSE(bad.contains("ttl"));  // not looked up: unknown
  CHECK(bad["alive"] == true);
  auto c2 = out["agents"][2];
  CHECK(c2["alive"] == false);  // its lease ran out
  CHECK(c2["ttl"] == 0);
  CHECK(c2["tasks"] == 0);
}

TEST_CASE("tasks: each stream with its collector and assignment revisions, the collectors load (idle ones too)") {
  CollectionRead read;
  read.revision = 30;
  read.agents = {kv("/corral/agents/c1", collector(2)), kv("/corral/agents/c2", collector(1))};
  read.streams = {kv(records::stream_key(kA), stream()), kv(records::stream_key(kB), stream()),
                  kv("/apps/not/a-stream", "plain")};
  read.assigns = {kv(records::assign_key("c1", kA), assignment(kA, false), 11, 12),
                  kv(records::assign_key("c1", kB), assignment(kB, true), 13, 14),
                  kv(records::assign_key("c3", kGone), assignment(kGone, false), 15, 15)};
  records::CheckpointRecord cp;
  cp.file = "f1";
  cp.offset = 100;
  cp.end = 160;
  cp.epoch = 11;
  cp.collector = "c1";
  cp.lines = 4;
  read.checkpoints = {kv(records::checkpoint_key(kA), records::encode_checkpoint(cp))};

  auto out = tasks_json(read);
  CHECK(out["revision"] == 30);
  auto tasks = out["tasks"];
  REQUIRE(tasks.size() == 3);  // sorted by task id
  auto gone = tasks[0];
  CHECK(gone["task"] == "db/slow/10.0.0.12");
  CHECK(gone["streamMissing"] == true);
  CHECK(gone["collector"] == "c3");
  auto a = tasks[1];
  CHECK(a["task"] == "web/access/10.0.0.11");
  CHECK(a["app"] == "web");
  CHECK(a["source"] == "web-1");
  CHECK(a["collector"] == "c1");
  CHECK(a["state"] == "active");
  CHECK(a["epoch"] == 11);
  CHECK(a["assignedRevision"] == 12);
  CHECK(a["lag"] == 60);
  CHECK(a["checkpoint"]["offset"] == 100);
  auto b = tasks[2];
  CHECK(b["state"] == "revoking");
  CHECK(b["to"] == "c2");
  CHECK_FALSE(b.contains("lag"));

  auto collectors = out["collectors"];
  REQUIRE(collectors.size() == 3);
  CHECK(collectors[0]["id"] == "c1");
  CHECK(collectors[0]["tasks"] == 2);
  CHECK(collectors[0]["revoking"] == 1);
  CHECK(collectors[0]["capacity"] == 2);
  CHECK(collectors[1]["id"] == "c2");  // idle, shown with no tasks
  CHECK(collectors[1]["tasks"] == 0);
  CHECK(collectors[2]["id"] == "c3");  // holds a task without an agent record
  CHECK(collectors[2]["registered"] == false);
}

TEST_CASE("the views' routes take GET only") {
  auto agents = route("GET", "/v1/agents");
  REQUIRE(std::holds_alternative<Route>(agents));
  CHECK(std::get<Route>(agents).kind == RouteKind::kAgents);
  CHECK(std::get<Route>(route("GET", "/v1/tasks")).kind == RouteKind::kTasks);
  auto post = route("POST", "/v1/tasks");
  REQUIRE(std::holds_alternative<RouteError>(post));
  CHECK(std::get<RouteError>(post).allow == "GET");
}
