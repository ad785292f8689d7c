// corralctl's log-collection commands against a real cluster: agents and
// streams registered through the client library, then `agents`, `tasks`,
// `collector drain|undrain` and `rebalance` as an operator runs them, their
// json checked field by field against what the key space holds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/collection.h"
#include "schema/log_records.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;
namespace records = corral::schema::records;
using nlohmann::json;

namespace {

constexpr std::chrono::milliseconds kCommandTimeoutMs{15'000};
constexpr std::chrono::milliseconds kAssignedTimeoutMs{10'000};
constexpr int64_t kAgentTtlSeconds = 60;
// Long enough that the leader never forces a release during the test: a
// drained collector's tasks stay revoking until the test releases them.
constexpr const char* kReleaseTimeoutMs = "600000";

const std::vector<records::TaskName> kTasks = {
    {"db", "query", "10.0.0.11"}, {"db", "slow", "10.0.0.11"}, {"web", "access", "10.0.0.11"}, {"web", "error", "10.0.0.11"}};

struct Ctl {
  Cluster& cluster;
  int runs = 0;
  RunResult operator()(std::vector<std::string> args) {
    std::vector<std::string> full = {"--endpoints", cluster.endpoints_text(), "--command-timeout", "3s"};
    full.insert(full.end(), args.begin(), args.end());
    std::string scratch = cluster.root() + "/ctl-" + std::to_string(runs++) + ".out";
    RunResult r = run_program(corralctl_path(), full, scratch, kCommandTimeoutMs);
    UNSCOPED_INFO("corralctl " << args.at(0) << " -> exit " << r.exit_code << ":\n" << r.out);
    return r;
  }
  // The command's json output; a failed run or bad json gives null.
  json json_of(std::vector<std::string> args) {
    args.insert(args.end(), {"-w", "json"});
    RunResult r = (*this)(std::move(args));
    if (r.exit_code != 0) return nullptr;
    json out = json::parse(r.out, nullptr, false);
    return out.is_discarded() ? json(nullptr) : out;
  }
};

int64_t register_collector(corral::client::Client& c, const std::string& id, const std::string& ip) {
  records::AgentRecord a;
  a.ip = ip;
  a.collector = true;
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
  a.labels = {{"zone", "a"}};
  std::vector<corral::client::LeaseKeyPut> puts = {{records::agent_key("web-1"), records::encode_agent(a)}};
  for (const auto& t : kTasks) {
    records::StreamRecord s;
    s.agent = "web-1";
    s.endpoint = a.endpoint;
    s.paths = {"/var/log/" + t.topic + "*.log"};
    puts.push_back({records::stream_key(t), records::encode_stream(s)});
  }
  return require_ok(c.lease_grant_with_keys(kAgentTtlSeconds, std::move(puts)), "register web-1").id;
}

// task id -> its row in `tasks -w json`.
std::map<std::string, json> rows_by_task(const json& out) {
  std::map<std::string, json> rows;
  if (out.is_object() && out["tasks"].is_array()) {
    for (const auto& row : out["tasks"]) rows[row["task"].get<std::string>()] = row;
  }
  return rows;
}

bool all_active(const json& out) {
  auto rows = rows_by_task(out);
  if (rows.size() != kTasks.size()) return false;
  for (const auto& [task, row] : rows) {
    if (row["state"] != "active") return false;
  }
  return true;
}

}  // namespace

TEST_CASE("corralctl agents, tasks, drain and rebalance end to end", "[integration][corralctl][collection]") {
  ClusterOptions options;
  options.extra_args = {"--assign-release-timeout", kReleaseTimeoutMs};
  Cluster cluster(options);
  cluster.start();
  Ctl ctl{cluster};
  auto c = cluster.client();

  const int64_t c1_lease = register_collector(*c, "c1", "10.0.0.21");
  register_collector(*c, "c2", "10.0.0.22");
  register_source(*c);

  // Streams are assigned in the revision that registers them, so the first
  // read should already see every task active; the wait is only a deadline.
  json tasks;
  REQUIRE(wait_until([&] { return all_active(tasks = ctl.json_of({"tasks"})); }, kAssignedTimeoutMs, 200ms));
  INFO("tasks: " << tasks.dump());
  std::map<std::string, std::string> owner;
  for (const auto& [task, row] : rows_by_task(tasks)) {
    owner[task] = row["collector"].get<std::string>();
    CHECK((owner[task] == "c1" || owner[task] == "c2"));
    CHECK(row["stream_exists"] == true);
    CHECK(row["checkpoint"].is_null());
    // The epoch is the assignment key's create_revision.
    auto key = require_ok(c->get(records::assign_key(owner[task], *records::parse_task(task))), "get assignment");
    REQUIRE(key.kvs.size() == 1);
    CHECK(row["epoch"] == key.kvs[0].create_revision);
  }
  std::map<std::string, int64_t> held;
  for (const auto& [task, who] : owner) ++held[who];

  SECTION("agents lists every agent with its lease, tasks and drain mark") {
    json agents = ctl.json_of({"agents"});
    INFO("agents: " << agents.dump());
    REQUIRE(agents.is_object());
    REQUIRE(agents["agents"].size() == 3);
    std::map<std::string, json> by_id;
    for (const auto& a : agents["agents"]) by_id[a["id"].get<std::string>()] = a;
    CHECK(by_id["c1"]["roles"] == json::array({"collector"}));
    CHECK(by_id["c1"]["ip"] == "10.0.0.21");
    CHECK(by_id["c1"]["lease"] == c1_lease);
    CHECK(by_id["c1"]["lease_ttl"] > 0);
    CHECK(by_id["c1"]["lease_ttl"] <= kAgentTtlSeconds);
    CHECK(by_id["c1"]["tasks"] == held["c1"]);
    CHECK(by_id["c2"]["tasks"] == held["c2"]);
    CHECK(by_id["web-1"]["roles"] == json::array({"source"}));
    CHECK(by_id["web-1"]["labels"] == json{{"zone", "a"}});
    CHECK(by_id["web-1"]["tasks"] == 0);
    for (const auto& [id, a] : by_id) CHECK(a["draining"] == false);

    auto simple = ctl({"agents"});
    CHECK(simple.exit_code == 0);
    CHECK(simple.out.rfind("ID ", 0) == 0);
    CHECK(simple.out.find("web-1 ") != std::string::npos);
  }

  SECTION("drain moves a collector's tasks to revoking, undrain clears the mark") {
    const std::string drained = held["c1"] > 0 ? "c1" : "c2";
    const std::string other = drained == "c1" ? "c2" : "c1";
    auto drain = ctl({"collector", "drain", drained});
    CHECK(drain.exit_code == 0);
    CHECK(drain.out == "drained collector " + drained + ": its " + std::to_string(held[drained]) +
                           (held[drained] == 1 ? " task moves away as it is released\n"
                                               : " tasks move away as they are released\n"));
    auto mark = require_ok(c->get(records::drain_key(drained)), "get drain key");
    CHECK(mark.kvs.size() == 1);

    // Marked revoking in the drain's own revision, towards the other collector.
    json revoking;
    auto all_revoking = [&] {
      auto rows = rows_by_task(revoking = ctl.json_of({"tasks", "--collector", drained}));
      if (static_cast<int64_t>(rows.size()) != held[drained]) return false;
      for (const auto& [task, row] : rows) {
        if (row["state"] != "revoking" || row["to"] != other) return false;
      }
      return true;
    };
    CHECK(wait_until(all_revoking, kAssignedTimeoutMs, 200ms));
    INFO("revoking: " << revoking.dump());
    json agents = ctl.json_of({"agents"});
    for (const auto& a : agents["agents"]) CHECK(a["draining"] == (a["id"] == drained));

    // A release hands the task over: active on the other collector, new epoch.
    const json row = rows_by_task(revoking).begin()->second;
    const auto task = *records::parse_task(row["task"].get<std::string>());
    REQUIRE(corral::client::collection::release(*c, drained, task, row["epoch"].get<int64_t>(), std::nullopt).ok());
    json moved;
    CHECK(wait_until(
        [&] {
          auto rows = rows_by_task(moved = ctl.json_of({"tasks", "--app", task.app, "--topic", task.topic}));
          return rows.size() == 1 && rows.begin()->second["collector"] == other &&
                 rows.begin()->second["state"] == "active";
        },
        kAssignedTimeoutMs, 200ms));
    INFO("moved: " << moved.dump());
    CHECK(rows_by_task(moved).begin()->second["epoch"] > row["epoch"]);

    auto again = ctl({"collector", "drain", drained});
    CHECK(again.exit_code == 0);
    CHECK(again.out.rfind("collector " + drained + " was already draining", 0) == 0);
    auto undrain = ctl({"collector", "undrain", drained});
    CHECK(undrain.exit_code == 0);
    CHECK(undrain.out == "undrained collector " + drained + ": it can be given tasks again\n");
    CHECK(require_ok(c->get(records::drain_key(drained)), "get drain key").kvs.empty());
    CHECK(ctl({"collector", "undrain", drained}).out == "collector " + drained + " was not draining\n");
  }

  SECTION("an unknown collector is flagged, a bad id is a usage error") {
    auto unknown = ctl({"collector", "drain", "nobody"});
    CHECK(unknown.exit_code == 0);
    CHECK(unknown.out.find("(no collector nobody is registered now)") != std::string::npos);
    CHECK(ctl({"collector", "undrain", "nobody"}).exit_code == 0);
    CHECK(ctl({"collector", "drain", "bad/id"}).exit_code == 2);
    CHECK(ctl({"tasks", "--app", "a b"}).exit_code == 2);
    CHECK(ctl({"collector"}).exit_code == 2);
  }

  SECTION("rebalance puts the request key and prints its revision") {
    auto rebalance = ctl({"rebalance"});
    CHECK(rebalance.exit_code == 0);
    REQUIRE(rebalance.out.rfind("rebalance requested at revision ", 0) == 0);
    const int64_t rev = std::stoll(rebalance.out.substr(std::string("rebalance requested at revision ").size()));
    auto key = require_ok(c->get(std::string(records::kRebalanceKey)), "get rebalance key");
    REQUIRE(key.kvs.size() == 1);
    CHECK(key.kvs[0].mod_revision == rev);
    json out = ctl.json_of({"rebalance"});
    CHECK(out["revision"] > rev);
    CHECK(out["header"]["revision"] == out["revision"]);
  }

  SECTION("table and simple formats of tasks") {
    auto table = ctl({"tasks", "-w", "table"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("| TASK ") != std::string::npos);
    CHECK(table.out.find("| web/access/10.0.0.11 ") != std::string::npos);
    auto simple = ctl({"tasks", "--app", "web"});
    CHECK(simple.exit_code == 0);
    CHECK(simple.out.rfind("TASK ", 0) == 0);
    CHECK(simple.out.find("db/") == std::string::npos);
    CHECK(std::count(simple.out.begin(), simple.out.end(), '\n') == 3);  // header and two web streams
  }
}
