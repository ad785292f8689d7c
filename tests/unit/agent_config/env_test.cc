#include <catch2/catch.hpp>

#include "tests/unit/agent_config/parse_helper.h"

namespace corral::agent::config {
namespace {

using testing::contains;
using testing::error_of;
using testing::parse_config;
using testing::ScopedEnv;
using testing::TempFile;

}  // namespace

TEST_CASE("CORRAL_AGENT_* variables set every flag", "[agent_config][env]") {
  ScopedEnv endpoints("CORRAL_AGENT_ENDPOINTS", "tcp://a:1,tcp://b:2");
  ScopedEnv id("CORRAL_AGENT_ID", "env-agent");
  ScopedEnv ip("CORRAL_AGENT_IP", "10.1.1.1");
  ScopedEnv host("CORRAL_AGENT_HOST", "env-host");
  ScopedEnv roles("CORRAL_AGENT_ROLES", "source,collector");
  ScopedEnv listen("CORRAL_AGENT_LISTEN", "tcp://*:7070");
  ScopedEnv source("CORRAL_AGENT_SOURCE", "web/access=/a.log;web/error=/e.log");
  ScopedEnv sink_dir("CORRAL_AGENT_SINK_DIR", "/srv/sink");
  ScopedEnv capacity("CORRAL_AGENT_CAPACITY", "5");
  ScopedEnv zone("CORRAL_AGENT_ZONE", "z1");
  ScopedEnv ttl("CORRAL_AGENT_LEASE_TTL_SECONDS", "15");
  ScopedEnv interval("CORRAL_AGENT_CHECKPOINT_INTERVAL_MS", "2000");
  ScopedEnv fetches("CORRAL_AGENT_MAX_IN_FLIGHT_FETCHES", "4");
  ScopedEnv bytes("CORRAL_AGENT_FETCH_MAX_BYTES", "8192");
  ScopedEnv release("CORRAL_AGENT_RELEASE_TIMEOUT_MS", "1000");
  ScopedEnv level("CORRAL_AGENT_LOG_LEVEL", "error");
  AgentConfig c = parse_config({});
  CHECK(c.endpoints == std::vector<std::string>{"tcp://a:1", "tcp://b:2"});
  CHECK(c.id == "env-agent");
  CHECK(c.ip == "10.1.1.1");
  CHECK(c.host == "env-host");
  CHECK(c.source);
  CHECK(c.collector);
  CHECK(c.listen == "tcp://*:7070");
  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[1] == StreamSource{"web", "error", {"/e.log"}});
  CHECK(c.sink == "file:/srv/sink");
  CHECK(c.capacity == 5);
  CHECK(c.zone == "z1");
  CHECK(c.lease_ttl_seconds == 15);
  CHECK(c.checkpoint_interval_ms == 2000);
  CHECK(c.max_in_flight_fetches == 4);
  CHECK(c.fetch_max_bytes == 8192);
  CHECK(c.release_timeout_ms == 1000);
  CHECK(c.log_level == LogLevel::kError);
}

TEST_CASE("the command line and the config file override the environment", "[agent_config][env]") {
  ScopedEnv capacity("CORRAL_AGENT_CAPACITY", "5");
  ScopedEnv zone("CORRAL_AGENT_ZONE", "from-env");
  ScopedEnv sink("CORRAL_AGENT_SINK", "stdout");
  TempFile file("zone = \"from-file\"\n");
  AgentConfig c = parse_config({"--config", file.path(), "--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles",
                                "collector", "--capacity", "6"});
  CHECK(c.capacity == 6);
  CHECK(c.zone == "from-file");
  CHECK(c.sink == "stdout");
}

TEST_CASE("a bad environment value is an error naming its flag", "[agent_config][env]") {
  ScopedEnv capacity("CORRAL_AGENT_CAPACITY", "0");
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "collector", "--sink", "stdout"}),
                 "--capacity: 0 is not in"));
}

}  // namespace corral::agent::config
