// GET /v1/agents and GET /v1/tasks on a real 3-member cluster, asked of a
// follower: agents and streams registered as corral-agent does (one lease
// with its keys, client/collection.h), then the views checked against the
// key space: roles, leases, tasks held, every stream's collector with the
// assignment's revision, each collector's load; a collector that goes away
// (its lease revoked) is gone from agents and its tasks move to the other.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "schema/log_records.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;
namespace records = corral::schema::records;
using nlohmann::json;

namespace {

constexpr int64_t kAgentTtlSeconds = 60;
constexpr std::chrono::milliseconds kSettleTimeout{10'000};

const std::vector<records::TaskName> kStreams = {
    {"db", "query", "10.0.0.11"}, {"web", "access", "10.0.0.11"}, {"web", "error", "10.0.0.11"}};

int64_t register_collector(corral::client::Client& c, const std::string& id, const std::string& ip, int64_t capacity) {
  records::AgentRecord a;
  a.host = id;
  a.ip = ip;
  a.endpoint = "tcp://" + ip + ":7071";
  a.collector = true;
  a.capacity = capacity;
  return require_ok(c.lease_grant_with_keys(kAgentTtlSeconds, {{records::agent_key(id), records::encode_agent(a)}}),
                    "register " + id)
      .id;
}

int64_t register_source(corral::client::Client& c) {
  records::AgentRecord a;
  a.host = "web-1";
  a.ip = "10.0.0.11";
  a.endpoint = "tcp://10.0.0.11:7070";
  a.source = true;
  std::vector<corral::client::LeaseKeyPut> puts = {{records::agent_key("web-1"), records::encode_agent(a)}};
  for (const auto& t : kStreams) {
    records::StreamRecord s;
    s.agent = "web-1";
    s.endpoint = a.endpoint;
    s.paths = {"/var/log/" + t.topic + "*.log"};
    puts.push_back({records::stream_key(t), records::encode_stream(s)});
  }
  return require_ok(c.lease_grant_with_keys(kAgentTtlSeconds, std::move(puts)), "register web-1").id;
}

json get_json(int port, const std::string& path) {
  auto a = http_request(port, "GET", path);
  UNSCOPED_INFO("GET " << path << " -> " << a.status << " " << a.body);
  return a.status == 200 ? a.json() : json(nullptr);
}

std::map<std::string, json> by(const json& list, const std::string& field) {
  std::map<std::string, json> out;
  if (!list.is_array()) return out;
  for (const auto& row : list) out[row[field].get<std::string>()] = row;
  return out;
}

bool all_assigned(const json& tasks, const std::vector<std::string>& to) {
  if (!tasks.is_object()) return false;
  auto rows = by(tasks["tasks"], "task");
  if (rows.size() != kStreams.size()) return false;
  for (const auto& [id, row] : rows) {
    if (row["state"] != "active" || !row["collector"].is_string()) return false;
    if (std::find(to.begin(), to.end(), row["collector"].get<std::string>()) == to.end()) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("http: /v1/agents and /v1/tasks show agents, assignments and collectors' load", "[http][collection]") {
  ClusterOptions options;
  options.http = true;
  Cluster cluster(options);
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const int port = cluster.member((*leader + 1) % cluster.size()).http_port;  // a follower
  auto c = cluster.client();

  const int64_t c1_lease = register_collector(*c, "c1", "10.0.0.21", 1);
  const int64_t c2_lease = register_collector(*c, "c2", "10.0.0.22", 2);
  const int64_t source_lease = register_source(*c);

  json tasks;
  REQUIRE(wait_until([&] { return all_assigned(tasks = get_json(port, "/v1/tasks"), {"c1", "c2"}); }, kSettleTimeout,
                     100ms));

  SECTION("tasks: every stream, its source, its collector and the assignment's revisions") {
    auto rows = by(tasks["tasks"], "task");
    for (const auto& t : kStreams) {
      REQUIRE(rows.count(t.id()));
      const json& row = rows[t.id()];
      CHECK(row["app"] == t.app);
      CHECK(row["topic"] == t.topic);
      CHECK(row["ip"] == t.ip);
      CHECK(row["source"] == "web-1");
      CHECK(row["sourceEndpoint"] == "tcp://10.0.0.11:7070");
      auto key = require_ok(c->get(records::assign_key(row["collector"].get<std::string>(), t)), "get assignment");
      REQUIRE(key.kvs.size() == 1);
      CHECK(row["epoch"] == key.kvs[0].create_revision);
      CHECK(row["assignedRevision"] == key.kvs[0].mod_revision);
    }
    CHECK(tasks["revision"].get<int64_t>() > 0);
    // The collectors' load adds up to the tasks, with each one's capacity.
    auto collectors = by(tasks["collectors"], "id");
    REQUIRE(collectors.size() == 2);
    int64_t held = 0;
    for (const auto& [id, row] : collectors) {
      held += row["tasks"].get<int64_t>();
      CHECK(row["registered"] == true);
      CHECK(row["draining"] == false);
      CHECK(row["revoking"] == 0);
    }
    CHECK(held == static_cast<int64_t>(kStreams.size()));
    CHECK(collectors["c1"]["capacity"] == 1);
    CHECK(collectors["c2"]["capacity"] == 2);
  }

  SECTION("agents: roles, address, lease and its time left, tasks held") {
    json agents = get_json(port, "/v1/agents");
    REQUIRE(agents.is_object());
    auto rows = by(agents["agents"], "id");
    REQUIRE(rows.size() == 3);
    CHECK(rows["web-1"]["roles"] == json::array({"source"}));
    CHECK(rows["web-1"]["ip"] == "10.0.0.11");
    CHECK(rows["web-1"]["endpoint"] == "tcp://10.0.0.11:7070");
    CHECK(rows["web-1"]["tasks"] == 0);
    CHECK(rows["c2"]["roles"] == json::array({"collector"}));
    char hex[32];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(source_lease));
    CHECK(rows["web-1"]["lease"] == hex);
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(c1_lease));
    CHECK(rows["c1"]["lease"] == hex);
    auto by_task = by(tasks["tasks"], "task");
    for (const char* id : {"web-1", "c1", "c2"}) {
      CHECK(rows[id]["alive"] == true);
      CHECK(rows[id]["ttl"].get<int64_t>() > 0);
      CHECK(rows[id]["ttl"].get<int64_t>() <= kAgentTtlSeconds);
      CHECK(rows[id]["draining"] == false);
    }
    int64_t c1_tasks = 0;
    for (const auto& [task, row] : by_task) c1_tasks += row["collector"] == "c1" ? 1 : 0;
    CHECK(rows["c1"]["tasks"] == c1_tasks);
  }

  SECTION("a collector that goes away leaves the views and its tasks move") {
    require_ok(c->lease_revoke(c2_lease), "revoke c2");
    REQUIRE(wait_until([&] { return all_assigned(tasks = get_json(port, "/v1/tasks"), {"c1"}); }, kSettleTimeout,
                       100ms));
    auto collectors = by(tasks["collectors"], "id");
    CHECK(collectors.count("c2") == 0);
    CHECK(collectors["c1"]["tasks"] == static_cast<int64_t>(kStreams.size()));
    auto agents = by(get_json(port, "/v1/agents")["agents"], "id");
    CHECK(agents.count("c2") == 0);
    CHECK(agents.size() == 2);
  }

  SECTION("the views take GET only") {
    auto a = http_request(port, "POST", "/v1/tasks", "x=1");
    CHECK(a.status == 405);
    CHECK(a.headers["allow"] == "GET");
  }
}
