// corralctl's log-collection views: rows built from given key-values, the
// text of their cells, their json, and the drain messages. No cluster.
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/collection_view.h"
#include "cli/output.h"

using namespace corral::cli;
using corral::client::Format;
using corral::client::Header;
using corral::client::Printer;
using nlohmann::json;

namespace {

KeyValue kv(std::string key, std::string value, int64_t create_revision = 1, int64_t lease = 0) {
  KeyValue k;
  k.key = std::move(key);
  k.value = std::move(value);
  k.create_revision = create_revision;
  k.mod_revision = create_revision;
  k.version = 1;
  k.lease = lease;
  return k;
}

records::TaskName task(std::string app, std::string topic, std::string ip) {
  return records::TaskName{std::move(app), std::move(topic), std::move(ip)};
}

std::string agent_value(bool collector, int64_t capacity = 1, std::map<std::string, std::string> labels = {}) {
  records::AgentRecord a;
  a.ip = "10.0.0.1";
  a.endpoint = "tcp://10.0.0.1:7070";
  a.source = !collector;
  a.collector = collector;
  a.capacity = capacity;
  a.labels = std::move(labels);
  return records::encode_agent(a);
}

std::string stream_value() {
  records::StreamRecord s;
  s.agent = "web-1";
  s.endpoint = "tcp://10.0.0.11:7070";
  return records::encode_stream(s);
}

KeyValue assignment(const std::string& collector, const records::TaskName& t, int64_t epoch,
                    const std::string& revoking_to = {}) {
  records::AssignmentRecord a;
  a.stream = records::stream_key(t);
  a.agent = "web-1";
  a.endpoint = "tcp://10.0.0.11:7070";
  a.revoking = !revoking_to.empty();
  a.to = revoking_to;
  a.epoch = epoch;
  return kv(records::assign_key(collector, t), records::encode_assignment(a), epoch);
}

KeyValue checkpoint(const records::TaskName& t, int64_t offset, int64_t end, int64_t lines) {
  records::CheckpointRecord c;
  c.file = "803-1";
  c.offset = offset;
  c.end = end;
  c.epoch = 7;
  c.collector = "c1";
  c.lines = lines;
  return kv(records::checkpoint_key(t), records::encode_checkpoint(c));
}

std::string print(Format format, const std::function<void(Printer&)>& f) {
  std::ostringstream out;
  Printer p(format, out);
  f(p);
  return out.str();
}

const records::TaskName kAccess = task("web", "access", "10.0.0.11");
const records::TaskName kError = task("web", "error", "10.0.0.11");
const records::TaskName kDb = task("db", "slow", "10.0.0.12");

}  // namespace

TEST_CASE("agents: one row per agent key with its tasks, drain mark and lease", "[cli]") {
  auto rows = agent_rows(
      {kv("/corral/agents/c2", agent_value(true, 3, {{"zone", "a"}, {"rack", "r1"}}), 5, 0x22),
       kv("/corral/agents/c1", agent_value(true), 4, 0x11), kv("/corral/agents/web-1", agent_value(false), 3),
       kv("/corral/agents/bad/id", agent_value(true), 3)},
      {assignment("c1", kAccess, 10), assignment("c1", kError, 11), assignment("c2", kDb, 12),
       kv("/corral/assign/c2/not-a-task", "{}")},
      {kv("/corral/drain/c2", "{}"), kv("/corral/drain/gone", "{}")});
  REQUIRE(rows.size() == 3);
  CHECK(agent_cells(rows[0]) ==
        std::vector<std::string>{"c1", "10.0.0.1", "collector", "1", "-", "?", "2", "no"});
  CHECK(agent_cells(rows[1]) ==
        std::vector<std::string>{"c2", "10.0.0.1", "collector", "3", "rack=r1,zone=a", "?", "1", "yes"});
  CHECK(agent_cells(rows[2]) == std::vector<std::string>{"web-1", "10.0.0.1", "source", "1", "-", "-", "0", "no"});
}

TEST_CASE("agents: leases are looked up once each, at most the bound, expired shown", "[cli]") {
  auto rows = agent_rows({kv("/corral/agents/a", agent_value(true), 1, 7), kv("/corral/agents/b", agent_value(false), 1, 7),
                          kv("/corral/agents/c", agent_value(true), 1, 8), kv("/corral/agents/d", agent_value(true), 1, 9),
                          kv("/corral/agents/e", agent_value(true), 1, 0)},
                         {}, {});
  CHECK(leases_to_look_up(rows, 1000) == std::vector<int64_t>{7, 8, 9});
  CHECK(leases_to_look_up(rows, 2) == std::vector<int64_t>{7, 8});
  apply_lease_ttls(rows, {{7, 12}, {8, -1}});
  CHECK(agent_cells(rows[0])[5] == "12s");
  CHECK(agent_cells(rows[1])[5] == "12s");
  CHECK(agent_cells(rows[2])[5] == "expired");
  CHECK(agent_cells(rows[3])[5] == "?");  // beyond the bound: not looked up
  CHECK(agent_cells(rows[4])[5] == "-");  // no lease
}

TEST_CASE("agents: a record that does not parse shows ? and its problem, not a crash", "[cli]") {
  auto rows = agent_rows({kv("/corral/agents/c1", "{not json"), kv("/corral/agents/c2", R"({"ip":"1.2.3.4"})")},
                         {assignment("c1", kAccess, 3)}, {});
  REQUIRE(rows.size() == 2);
  CHECK(agent_cells(rows[0]) == std::vector<std::string>{"c1", "?", "?", "?", "?", "-", "1", "no"});
  CHECK(rows[0].record.problem.find("not valid JSON") != std::string::npos);
  CHECK(agent_cells(rows[1])[1] == "?");  // roles missing: the record as a whole is refused
  auto out = json::parse(print(Format::kJson, [&](Printer& p) { p.agents(Header{1, 2, 30, 4}, rows); }));
  CHECK(out["header"]["revision"] == 30);
  CHECK(out["agents"][0]["ip"].is_null());
  CHECK(out["agents"][0]["tasks"] == 1);
  CHECK(out["agents"][0]["error"].get<std::string>().find("not valid JSON") != std::string::npos);
}

TEST_CASE("agents: json has typed fields in snake_case", "[cli]") {
  auto rows = agent_rows({kv("/corral/agents/c1", agent_value(true, 2, {{"zone", "b"}}), 1, 0x11)}, {}, {kv("/corral/drain/c1", "{}")});
  apply_lease_ttls(rows, {{0x11, 9}});
  auto out = json::parse(print(Format::kJson, [&](Printer& p) { p.agents(Header{}, rows); }));
  const auto& a = out["agents"].at(0);
  CHECK(a["id"] == "c1");
  CHECK(a["roles"] == json::array({"collector"}));
  CHECK(a["capacity"] == 2);
  CHECK(a["labels"] == json{{"zone", "b"}});
  CHECK(a["lease"] == 0x11);
  CHECK(a["lease_ttl"] == 9);
  CHECK(a["tasks"] == 0);
  CHECK(a["draining"] == true);
  CHECK(!a.contains("error"));
}

TEST_CASE("tasks: unassigned, active and revoking rows with their checkpoints", "[cli]") {
  auto rows = task_rows(
      {kv("/apps/web/access/10.0.0.11", stream_value()), kv("/apps/web/error/10.0.0.11", stream_value()),
       kv("/apps/db/slow/10.0.0.12", stream_value()), kv("/apps/web/config", "not a stream"),
       kv("/apps/web/a/b/c", "too deep")},
      {assignment("c1", kAccess, 40), assignment("c1", kDb, 41, "c2")},
      {checkpoint(kAccess, 100, 250, 9), checkpoint(kDb, 300, 0, 2)});
  REQUIRE(rows.size() == 3);
  CHECK(task_cells(rows[0]) ==
        std::vector<std::string>{"db/slow/10.0.0.12", "c1", "revoking->c2", "41", "300", "803-1", "-", "2"});
  CHECK(task_cells(rows[1]) ==
        std::vector<std::string>{"web/access/10.0.0.11", "c1", "active", "40", "100", "803-1", "150", "9"});
  CHECK(task_cells(rows[2]) ==
        std::vector<std::string>{"web/error/10.0.0.11", "-", "unassigned", "-", "-", "-", "-", "-"});
}

TEST_CASE("tasks: an assignment whose stream is gone is shown, not hidden", "[cli]") {
  auto rows = task_rows({}, {assignment("c1", kAccess, 40)}, {});
  REQUIRE(rows.size() == 1);
  CHECK(!rows[0].has_stream);
  CHECK(task_cells(rows[0])[2] == "active (stream gone)");
}

TEST_CASE("tasks: filters by collector, app and topic apply to rows", "[cli]") {
  auto all = task_rows({kv("/apps/web/access/10.0.0.11", stream_value()), kv("/apps/web/error/10.0.0.11", stream_value()),
                        kv("/apps/db/slow/10.0.0.12", stream_value())},
                       {assignment("c1", kAccess, 40), assignment("c2", kDb, 41)}, {});
  auto ids = [](const std::vector<TaskRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.task.id());
    return out;
  };
  CHECK(ids(filter_rows(all, {"c1", "", ""})) == std::vector<std::string>{"web/access/10.0.0.11"});
  CHECK(ids(filter_rows(all, {"", "web", ""})) ==
        std::vector<std::string>{"web/access/10.0.0.11", "web/error/10.0.0.11"});
  CHECK(ids(filter_rows(all, {"", "web", "error"})) == std::vector<std::string>{"web/error/10.0.0.11"});
  CHECK(ids(filter_rows(all, {"", "", "slow"})) == std::vector<std::string>{"db/slow/10.0.0.12"});
  CHECK(ids(filter_rows(all, {"c2", "web", ""})).empty());
  CHECK(filter_rows(all, {}).size() == 3);
}

TEST_CASE("tasks: bad assignment and checkpoint values show ? and stay valid json", "[cli]") {
  auto rows = task_rows({kv("/apps/web/access/10.0.0.11", stream_value())},
                        {kv(records::assign_key("c1", kAccess), "[1,2]", 40)},
                        {kv(records::checkpoint_key(kAccess), R"({"file":"x"})")});
  REQUIRE(rows.size() == 1);
  CHECK(task_cells(rows[0]) ==
        std::vector<std::string>{"web/access/10.0.0.11", "c1", "?", "40", "?", "?", "?", "?"});
  auto out = json::parse(print(Format::kJson, [&](Printer& p) { p.tasks(Header{}, rows); }));
  const auto& t = out["tasks"].at(0);
  CHECK(t["collector"] == "c1");
  CHECK(t["state"].is_null());
  CHECK(t["epoch"] == 40);
  CHECK(t["error"].get<std::string>().find("must be a JSON object") != std::string::npos);
  CHECK(t["checkpoint"]["error"].get<std::string>().find("offset") != std::string::npos);
  CHECK(t["lag"].is_null());
}

TEST_CASE("tasks: json rows carry state, target, epoch, checkpoint and lag", "[cli]") {
  auto rows = task_rows({kv("/apps/web/access/10.0.0.11", stream_value()), kv("/apps/web/error/10.0.0.11", stream_value())},
                        {assignment("c1", kAccess, 40, "c2")}, {checkpoint(kAccess, 100, 250, 9)});
  auto out = json::parse(print(Format::kJson, [&](Printer& p) { p.tasks(Header{}, rows); }));
  REQUIRE(out["tasks"].size() == 2);
  const auto& revoking = out["tasks"][0];
  CHECK(revoking["task"] == "web/access/10.0.0.11");
  CHECK(revoking["app"] == "web");
  CHECK(revoking["state"] == "revoking");
  CHECK(revoking["to"] == "c2");
  CHECK(revoking["epoch"] == 40);
  CHECK(revoking["stream_exists"] == true);
  CHECK(revoking["checkpoint"]["offset"] == 100);
  CHECK(revoking["lag"] == 150);
  const auto& unassigned = out["tasks"][1];
  CHECK(unassigned["state"] == "unassigned");
  CHECK(unassigned["collector"].is_null());
  CHECK(unassigned["epoch"].is_null());
  CHECK(unassigned["checkpoint"].is_null());
}

TEST_CASE("tasks: simple format is aligned columns, table format has borders", "[cli]") {
  auto rows = task_rows({kv("/apps/web/access/10.0.0.11", stream_value())}, {assignment("c1", kAccess, 40)}, {});
  CHECK(print(Format::kSimple, [&](Printer& p) { p.tasks(Header{}, rows); }) ==
        "TASK                  COLLECTOR  STATE   EPOCH  OFFSET  FILE  LAG  LINES\n"
        "web/access/10.0.0.11  c1         active  40     -       -     -    -\n");
  const std::string table = print(Format::kTable, [&](Printer& p) { p.tasks(Header{}, rows); });
  CHECK(table.rfind("+----", 0) == 0);
  CHECK(table.find("| web/access/10.0.0.11 | c1        | active |") != std::string::npos);
}

TEST_CASE("drain: messages say what happens and flag an unknown collector", "[cli]") {
  DrainOutcome o{"c1", true, false, true, 3, 3, 50};
  CHECK(drain_message(o) == "drained collector c1: its 3 tasks move away as they are released");
  o.revoking = 1;
  CHECK(drain_message(o) == "drained collector c1: 1 of its 3 tasks move away as they are released; the others stay "
                            "until another collector can take them");
  o.was_draining = true;
  o.tasks = 1;
  CHECK(drain_message(o) == "collector c1 was already draining: its 1 task moves away as it is released");
  o = {"c9", true, false, false, 0, 0, 50};
  CHECK(drain_message(o) == "drained collector c9: it holds no tasks (no collector c9 is registered now)");
  o = {"c1", false, true, true, 2, 0, 51};
  CHECK(drain_message(o) == "undrained collector c1: it can be given tasks again");
  o.was_draining = false;
  CHECK(drain_message(o) == "collector c1 was not draining");
  auto out = json::parse(print(Format::kJson, [&](Printer& p) { p.drain(Header{1, 2, 51, 3}, o); }));
  CHECK(out["collector"] == "c1");
  CHECK(out["draining"] == false);
  CHECK(out["tasks"] == 2);
  CHECK(out["revoking"] == 0);
  CHECK(out["header"]["revision"] == 51);
}

TEST_CASE("drain: only an agent record with the collector role counts as registered", "[cli]") {
  CHECK(is_registered_collector({kv("/corral/agents/c1", agent_value(true))}));
  CHECK(!is_registered_collector({kv("/corral/agents/c1", agent_value(false))}));
  CHECK(!is_registered_collector({kv("/corral/agents/c1", "garbage")}));
  CHECK(!is_registered_collector({}));
}
