#include <catch2/catch.hpp>

#include "tests/unit/agent_config/parse_helper.h"

namespace corral::agent::config {
namespace {

using testing::contains;
using testing::error_of;
using testing::parse_config;
using testing::TempFile;

constexpr const char* kFullFile = R"(# a collector and source
endpoints = "tcp://10.0.0.1:2379,tcp://10.0.0.2:2379"
id = "web-1"
ip = "10.0.0.11"
host = "web-1.example.net"
roles = ["source", "collector"]
listen = "tcp://0.0.0.0:7070"
source = ["web/access=/var/log/a*.log", "web/access=/var/log/b.log", "web/error=/var/log/e.log"]
sink-dir = "/var/lib/corral/sink"
capacity = 3
zone = "a"
lease-ttl-seconds = 20
checkpoint-interval-ms = 500
max-in-flight-fetches = 8
fetch-max-bytes = 262144
release-timeout-ms = 3000
log-level = "warn"
)";

}  // namespace

TEST_CASE("a config file sets every key", "[agent_config][file]") {
  TempFile file(kFullFile);
  AgentConfig c = parse_config({"--config", file.path()});
  CHECK(c.config_file == file.path());
  CHECK(c.endpoints == std::vector<std::string>{"tcp://10.0.0.1:2379", "tcp://10.0.0.2:2379"});
  CHECK(c.id == "web-1");
  CHECK(c.ip == "10.0.0.11");
  CHECK(c.host == "web-1.example.net");
  CHECK(c.source);
  CHECK(c.collector);
  CHECK(c.listen == "tcp://0.0.0.0:7070");
  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[0] == StreamSource{"web", "access", {"/var/log/a*.log", "/var/log/b.log"}});
  CHECK(c.sources[1] == StreamSource{"web", "error", {"/var/log/e.log"}});
  CHECK(c.sink == "file:/var/lib/corral/sink");
  CHECK(c.capacity == 3);
  CHECK(c.zone == "a");
  CHECK(c.lease_ttl_seconds == 20);
  CHECK(c.checkpoint_interval_ms == 500);
  CHECK(c.max_in_flight_fetches == 8);
  CHECK(c.fetch_max_bytes == 262144);
  CHECK(c.release_timeout_ms == 3000);
  CHECK(c.log_level == LogLevel::kWarn);
}

TEST_CASE("command-line flags override the config file", "[agent_config][file]") {
  TempFile file(kFullFile);
  AgentConfig c = parse_config({"--config", file.path(), "--capacity", "9", "--source", "app/x=/x.log"});
  CHECK(c.capacity == 9);
  REQUIRE(c.sources.size() == 1);
  CHECK(c.sources[0].name() == "app/x");
  CHECK(c.zone == "a");
}

TEST_CASE("a config-file key that is no flag is an error naming the key and the file", "[agent_config][file]") {
  TempFile typo(std::string(kFullFile) + "capacty = 4\n");
  std::string message = error_of({"--config", typo.path()});
  CHECK(contains(message, "config file " + typo.path()));
  CHECK(contains(message, "unknown key 'capacty'"));
  TempFile underscore(std::string(kFullFile) + "sink_dir = \"/x\"\n");
  CHECK(contains(error_of({"--config", underscore.path()}), "unknown key 'sink_dir'"));
  TempFile section(std::string(kFullFile) + "[agent]\nzone = \"b\"\n");
  CHECK(contains(error_of({"--config", section.path()}), "unknown section [agent]"));
  TempFile version(std::string(kFullFile) + "version = true\n");
  CHECK(contains(error_of({"--config", version.path()}), "key 'version' is not allowed in a config file"));
}

TEST_CASE("a config file's bad values name the key's flag", "[agent_config][file]") {
  TempFile zero(std::string("capacity = 0\n") + R"(endpoints = "tcp://h:1"
ip = "1.2.3.4"
roles = "collector"
sink = "stdout"
)");
  CHECK(contains(error_of({"--config", zero.path()}), "--capacity: 0 is not in 1..1000000"));
  TempFile relative(R"(endpoints = "tcp://h:1"
ip = "1.2.3.4"
roles = "source"
listen = "tcp://*:7070"
source = "web/access=access.log"
)");
  CHECK(contains(error_of({"--config", relative.path()}), "the glob must be an absolute path"));
}

TEST_CASE("a missing config file is an error naming --config", "[agent_config][file]") {
  std::string message = error_of({"--config", "/nonexistent/corral-agent.conf"});
  CHECK(contains(message, "--config"));
  CHECK(contains(message, "/nonexistent/corral-agent.conf"));
}

TEST_CASE("agent/config/example.conf is a valid config", "[agent_config][file]") {
  AgentConfig c = parse_config({"--config", std::string(CORRAL_SOURCE_DIR) + "/agent/config/example.conf"});
  CHECK(c.source);
  CHECK(c.collector);
  CHECK(c.id == "web-1");
  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[0].globs.size() == 2);
  CHECK(c.sink == "file:/var/lib/corral/sink");
  CHECK(c.advertised_endpoint() == "tcp://10.0.0.11:7070");
}

}  // namespace corral::agent::config
