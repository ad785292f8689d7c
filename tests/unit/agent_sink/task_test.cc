#include <catch2/catch.hpp>

#include "agent/sink/task.h"

namespace corral::agent::sink {

TEST_CASE("parse_task splits app/topic/machine-ip", "[agent_sink][task]") {
  auto t = parse_task("web/access/10.0.0.11");
  REQUIRE(t.ok());
  CHECK(t->app == "web");
  CHECK(t->topic == "access");
  CHECK(t->machine_ip == "10.0.0.11");
  auto v6 = parse_task("web/access/fe80::1");
  REQUIRE(v6.ok());
  CHECK(v6->machine_ip == "fe80::1");
}

TEST_CASE("parse_task refuses what is not three valid segments", "[agent_sink][task]") {
  for (const char* bad : {"", "web", "web/access", "web/access/1.2.3.4/x", "../access/1.2.3.4", "web/./1.2.3.4",
                          "web/access/..", "web//1.2.3.4", "we b/access/1.2.3.4", "web/access/1.2.3.4/",
                          "web/acc:ess/1.2.3.4", "web/access/1_2"}) {
    INFO(bad);
    auto t = parse_task(bad);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == SinkErrorCode::kBadInput);
  }
  CHECK_FALSE(parse_task(std::string(129, 'a') + "/t/1.2.3.4").ok());
  CHECK(parse_task(std::string(128, 'a') + "/t/1.2.3.4").ok());
  CHECK_FALSE(parse_task("a/t/" + std::string(65, '1')).ok());
}

TEST_CASE("check_whole_lines accepts empty or newline-terminated bytes only", "[agent_sink][task]") {
  CHECK(check_whole_lines("a/b/c", "").ok());
  CHECK(check_whole_lines("a/b/c", "x\n").ok());
  CHECK(check_whole_lines("a/b/c", "x\ny\n").ok());
  auto s = check_whole_lines("a/b/c", "x\ny");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == SinkErrorCode::kBadInput);
}

}  // namespace corral::agent::sink
