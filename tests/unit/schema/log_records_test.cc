// The log-collection records: every documented field is checked, a bad
// value is refused with a message naming the field, and what is encoded
// parses back to the same record.
#include <catch2/catch.hpp>

#include "schema/log_records.h"

using namespace corral::schema::records;

namespace {

template <class T>
std::string problem_of(const std::variant<T, Problem>& v) {
  return std::holds_alternative<Problem>(v) ? std::get<Problem>(v) : std::string();
}

}  // namespace

TEST_CASE("records: an agent record round-trips and its fields are checked", "[records]") {
  AgentRecord a;
  a.host = "web-1";
  a.ip = "10.0.0.11";
  a.endpoint = "tcp://10.0.0.11:7070";
  a.source = a.collector = true;
  a.capacity = 3;
  a.labels = {{"zone", "a"}};
  a.version = "0.1.0";
  auto text = encode_agent(a);
  CHECK(text ==
        R"({"host":"web-1","ip":"10.0.0.11","endpoint":"tcp://10.0.0.11:7070","roles":["source","collector"],"capacity":3,"labels":{"zone":"a"},"version":"0.1.0"})");
  auto back = parse_agent(text);
  REQUIRE(problem_of(back).empty());
  CHECK(std::get<AgentRecord>(back).zone() == "a");
  CHECK(std::get<AgentRecord>(back).capacity == 3);

  struct Case {
    const char* json;
    const char* names;
  };
  for (auto c : {Case{"not json", "not valid JSON"}, Case{"[1]", "must be a JSON object"},
                 Case{R"({"roles":["collector"]})", "'ip' is required"},
                 Case{R"({"ip":"1.2.3.4"})", "'roles' is required"},
                 Case{R"({"ip":"1.2.3.4","roles":[]})", "'roles'"},
                 Case{R"({"ip":"1.2.3.4","roles":["sink"]})", "'roles'"},
                 Case{R"({"ip":"1.2.3.4","roles":["collector","collector"]})", "'roles'"},
                 Case{R"({"ip":"1.2.3.4","roles":["source"]})", "'endpoint' is required"},
                 Case{R"({"ip":"1.2.3.4","roles":["source"],"endpoint":"10.0.0.1:1"})", "'endpoint' must be tcp://"},
                 Case{R"({"ip":"1.2.3.4","roles":["collector"],"capacity":0})", "'capacity' must be in 1..1000000"},
                 Case{R"({"ip":"1.2.3.4","roles":["collector"],"capacity":1.5})", "'capacity' must be an integer"},
                 Case{R"({"ip":"1.2.3.4","roles":["collector"],"capacity":18446744073709551615})", "'capacity'"},
                 Case{R"({"ip":"1 2","roles":["collector"]})", "'ip'"},
                 Case{R"({"ip":"1.2.3.4","roles":["collector"],"labels":{"zone":1}})", "'labels'"},
                 Case{R"({"ip":"1.2.3.4","roles":["collector"],"capasity":2})", "unknown field 'capasity'"}}) {
    INFO(c.json);
    CHECK_THAT(problem_of(parse_agent(c.json)), Catch::Contains(c.names));
  }
}

TEST_CASE("records: stream, assignment and checkpoint records round-trip and are checked", "[records]") {
  StreamRecord s{"web-1", "tcp://10.0.0.11:7070", {"/var/log/a*.log"}, "a"};
  auto sback = parse_stream(encode_stream(s));
  REQUIRE(problem_of(sback).empty());
  CHECK(std::get<StreamRecord>(sback).paths == s.paths);
  CHECK_THAT(problem_of(parse_stream(R"({"endpoint":"tcp://h:1"})")), Catch::Contains("'agent' is required"));
  CHECK_THAT(problem_of(parse_stream(R"({"agent":"a b","endpoint":"tcp://h:1"})")), Catch::Contains("'agent'"));

  AssignmentRecord a{"/apps/web/access/10.0.0.11", "web-1", "tcp://h:1", true, "c2", 42};
  auto aback = parse_assignment(encode_assignment(a));
  REQUIRE(problem_of(aback).empty());
  CHECK(std::get<AssignmentRecord>(aback).to == "c2");
  CHECK(std::get<AssignmentRecord>(aback).epoch == 42);
  CHECK_THAT(problem_of(parse_assignment(
                 R"({"stream":"/apps/a/b/c","agent":"x","endpoint":"tcp://h:1","state":"revoking","epoch":1})")),
             Catch::Contains("'to' is required"));

  CheckpointRecord c{"8-9-abc", 100, 200, 42, "c1", 7};
  auto cback = parse_checkpoint(encode_checkpoint(c));
  REQUIRE(problem_of(cback).empty());
  CHECK(std::get<CheckpointRecord>(cback).offset == 100);
  CHECK_THAT(problem_of(parse_checkpoint(R"({"file":"f","offset":-1,"epoch":1,"collector":"c"})")),
             Catch::Contains("'offset'"));
}

TEST_CASE("records: keys parse to their parts and nothing else does", "[records]") {
  auto t = task_of_stream_key("/apps/web/access/10.0.0.11");
  REQUIRE(t);
  CHECK(t->id() == "web/access/10.0.0.11");
  CHECK(stream_key(*t) == "/apps/web/access/10.0.0.11");
  CHECK(checkpoint_key(*t) == "/corral/checkpoints/web/access/10.0.0.11");
  auto a = parse_assign_key(assign_key("c1", *t));
  REQUIRE(a);
  CHECK(a->collector == "c1");
  CHECK(a->task == *t);
  CHECK(task_of_stream_key("/apps/web/access/fe80::1"));
  for (auto bad : {"/apps/web/access", "/apps/web/access/", "/apps//access/ip", "/apps/web/access/ip/x",
                   "/apps/w b/access/ip"}) {
    INFO(bad);
    CHECK_FALSE(task_of_stream_key(bad));
  }
  CHECK_FALSE(parse_assign_key("/corral/assign/c1/web/access"));
  CHECK(agent_id_of("/corral/agents/web-1") == std::optional<std::string>("web-1"));
  CHECK_FALSE(agent_id_of("/corral/agents/a/b"));
}

TEST_CASE("records: a client's put is checked only under the log-collection keys", "[records]") {
  const std::string stream = R"({"agent":"web-1","endpoint":"tcp://10.0.0.11:7070"})";
  CHECK(check_client_put("/apps/web/access/10.0.0.11", stream).empty());
  CHECK_THAT(check_client_put("/apps/web/access/10.0.0.11", "9000"), Catch::Contains("/apps/web/access/10.0.0.11: stream record"));
  CHECK_THAT(check_client_put("/apps/web/access/10 0 0 1", stream), Catch::Contains("stream key"));
  // Other depths under /apps/ are ordinary keys.
  CHECK(check_client_put("/apps/web/a", "anything").empty());
  CHECK(check_client_put("/apps/web/a/b/c", "anything").empty());
  CHECK(check_client_put("/config/x", "anything").empty());
  CHECK_THAT(check_client_put("/corral/assign/c1/web/access/ip", "{}"), Catch::Contains("written by the coordinator"));
  CHECK_THAT(check_client_put("/corral/agents/bad id", "{}"), Catch::Contains("agent key"));
  CHECK_THAT(check_client_put("/corral/checkpoints/web/access/ip", "{}"), Catch::Contains("'file' is required"));
  CHECK(check_client_put("/corral/drain/c1", "").empty());
  CHECK_THAT(check_client_put("/corral/drain/c 1", ""), Catch::Contains("drain key"));
}
