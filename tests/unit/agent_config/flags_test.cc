#include <catch2/catch.hpp>

#include "agent/config/rules.h"
#include "agent/config/version.h"
#include "tests/unit/agent_config/parse_helper.h"

namespace corral::agent::config {
namespace {

using testing::contains;
using testing::error_of;
using testing::parse;
using testing::parse_config;
using testing::source_flags;
using testing::with;

}  // namespace

TEST_CASE("a minimal source agent gets the documented defaults", "[agent_config][flags]") {
  AgentConfig c = parse_config(source_flags());
  CHECK(c.endpoints == std::vector<std::string>{"tcp://127.0.0.1:2379"});
  CHECK(c.ip == "10.0.0.11");
  CHECK(c.source);
  CHECK_FALSE(c.collector);
  CHECK(c.listen == "tcp://0.0.0.0:7070");
  CHECK(c.advertised_endpoint() == "tcp://10.0.0.11:7070");
  REQUIRE(c.sources.size() == 1);
  CHECK(c.sources[0] == StreamSource{"web", "access", {"/var/log/access.log"}});
  CHECK(c.host == local_hostname());
  CHECK(c.id == sanitize_id(local_hostname()));
  CHECK(c.sink.empty());
  CHECK(c.capacity == kDefaultCapacity);
  CHECK(c.zone.empty());
  CHECK(c.lease_ttl_seconds == kDefaultLeaseTtlSeconds);
  CHECK(c.checkpoint_interval_ms == kDefaultCheckpointIntervalMs);
  CHECK(c.max_in_flight_fetches == kDefaultMaxInFlightFetches);
  CHECK(c.fetch_max_bytes == kDefaultFetchMaxBytes);
  CHECK(c.release_timeout_ms == kDefaultReleaseTimeoutMs);
  CHECK(c.rotation_grace_ms == kDefaultRotationGraceMs);
  CHECK(c.log_level == LogLevel::kInfo);
  CHECK(c.config_file.empty());
}

TEST_CASE("every flag sets its field", "[agent_config][flags]") {
  AgentConfig c = parse_config({"--endpoints", "tcp://a:1,tcp://b:2", "--endpoints", "tcp://c:3", "--id", "web-1",
                                "--ip", "10.0.0.11", "--host", "web-1.example.net", "--roles", "source,collector",
                                "--listen", "tcp://10.0.0.11:7070", "--source", "web/access=/var/log/a*.log",
                                "--source", "web/error=/var/log/e.log", "--sink", "zmq:tcp://10.0.0.9:5555",
                                "--capacity", "7", "--zone", "eu-1", "--lease-ttl-seconds", "30",
                                "--checkpoint-interval-ms", "250", "--max-in-flight-fetches", "64",
                                "--fetch-max-bytes", "65536", "--release-timeout-ms", "9000", "--rotation-grace-ms", "250",
                                "--log-level", "debug"});
  CHECK(c.endpoints == std::vector<std::string>{"tcp://a:1", "tcp://b:2", "tcp://c:3"});
  CHECK(c.id == "web-1");
  CHECK(c.host == "web-1.example.net");
  CHECK(c.source);
  CHECK(c.collector);
  CHECK(c.roles() == std::vector<std::string>{"source", "collector"});
  CHECK(c.listen == "tcp://10.0.0.11:7070");
  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[0].name() == "web/access");
  CHECK(c.sources[1] == StreamSource{"web", "error", {"/var/log/e.log"}});
  CHECK(c.sink == "zmq:tcp://10.0.0.9:5555");
  CHECK(c.capacity == 7);
  CHECK(c.zone == "eu-1");
  CHECK(c.lease_ttl_seconds == 30);
  CHECK(c.checkpoint_interval_ms == 250);
  CHECK(c.max_in_flight_fetches == 64);
  CHECK(c.fetch_max_bytes == 65536);
  CHECK(c.release_timeout_ms == 9000);
  CHECK(c.rotation_grace_ms == 250);
  CHECK(c.log_level == LogLevel::kDebug);
}

TEST_CASE("source flag: repeating APP/TOPIC adds globs and a semicolon separates values", "[agent_config][flags]") {
  AgentConfig c = parse_config({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "source", "--listen",
                                "tcp://*:7070", "--source", "web/access=/a/1.log", "--source",
                                "app/x=/x.log;web/access=/a/2*.log"});
  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[0] == StreamSource{"web", "access", {"/a/1.log", "/a/2*.log"}});
  CHECK(c.sources[1] == StreamSource{"app", "x", {"/x.log"}});
  CHECK(contains(error_of(with(source_flags(), {"--source", "web/access=/var/log/access.log"})),
                 "'web/access=/var/log/access.log' is given twice"));
}

TEST_CASE("sink-dir flag is short for sink file:DIR and never both", "[agent_config][flags]") {
  std::vector<std::string> collector = {"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "collector"};
  CHECK(parse_config(with(collector, {"--sink-dir", "/var/lib/corral"})).sink == "file:/var/lib/corral");
  CHECK(parse_config(with(collector, {"--sink", "stdout"})).sink == "stdout");
  std::string both = error_of(with(collector, {"--sink", "stdout", "--sink-dir", "/d"}));
  CHECK(contains(both, "--sink-dir"));
  CHECK(contains(both, "not both"));
}

TEST_CASE("version and help flags ask main to print and exit", "[agent_config][flags]") {
  ParseOutcome version = parse({"--version"});
  REQUIRE(version.print_and_exit);
  CHECK(*version.print_and_exit == std::string("corral-agent ") + kAgentVersion + "\n");
  ParseOutcome help = parse({"--help"});
  REQUIRE(help.print_and_exit);
  CHECK(contains(*help.print_and_exit, "--endpoints"));
  CHECK(contains(*help.print_and_exit, "--sink-dir"));
}

TEST_CASE("flag errors name the flag", "[agent_config][flags]") {
  struct Case {
    std::vector<std::string> extra;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{"--capacty", "3"}, "unknown flag or argument: --capacty 3"},
      {{"--capacity", "0"}, "--capacity: 0 is not in 1..1000000"},
      {{"--capacity", "1000001"}, "--capacity: 1000001 is not in 1..1000000"},
      {{"--capacity", "many"}, "--capacity"},
      {{"--capacity", "-1"}, "--capacity"},
      {{"--lease-ttl-seconds", "1"}, "--lease-ttl-seconds: 1 is not in 2..300"},
      {{"--lease-ttl-seconds", "301"}, "--lease-ttl-seconds: 301 is not in 2..300"},
      {{"--checkpoint-interval-ms", "5"}, "--checkpoint-interval-ms"},
      {{"--max-in-flight-fetches", "0"}, "--max-in-flight-fetches"},
      {{"--fetch-max-bytes", "100"}, "--fetch-max-bytes"},
      {{"--release-timeout-ms", "99"}, "--release-timeout-ms"},
      {{"--rotation-grace-ms", "600001"}, "--rotation-grace-ms"},
      {{"--max-in-flight-fetches", "65"}, "--max-in-flight-fetches: 65 is not in 1..64"},
      {{"--id", "web 1"}, "--id: 'web 1' is not 1..128 bytes"},
      {{"--zone", "eu/1"}, "--zone"},
      {{"--log-level", "verbose"}, "--log-level"},
      {{"--roles", "source,collecter"}, "--roles"},
      {{"--source", "web/access=var/log/x.log"}, "--source: 'web/access=var/log/x.log': the glob must be an absolute path"},
      {{"--source", "web=/x.log"}, "--source: 'web=/x.log' is not APP/TOPIC=GLOB"},
      {{"--source", "we b/access=/x.log"}, "--source"},
      {{"--source", "web/access="}, "--source"},
      {{"--sink", "stdout"}, "--sink: given but --roles has no collector"},
      {{"--ip", "10.0.0.1/24"}, "--ip"},
      {{"--endpoints", "10.0.0.1:2379"}, "--endpoints: '10.0.0.1:2379' is not tcp://HOST:PORT"},
      {{"--listen", "tcp://0.0.0.0"}, "--listen"},
      {{"positional"}, "unknown flag or argument: positional"},
  };
  for (const Case& c : cases) {
    INFO(c.extra.front() + (c.extra.size() > 1 ? " " + c.extra[1] : ""));
    CHECK(contains(error_of(with(source_flags(), c.extra)), c.expected));
  }
}

TEST_CASE("required settings and role rules are errors naming the flag", "[agent_config][flags]") {
  CHECK(contains(error_of({"--ip", "1.2.3.4", "--roles", "collector", "--sink", "stdout"}), "--endpoints: required"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--roles", "collector", "--sink", "stdout"}), "--ip: required"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4"}), "--roles: required"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "source", "--source", "a/b=/x"}),
                 "--listen: required for the source role"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "source", "--listen", "tcp://*:1"}),
                 "--source: the source role needs at least one"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "collector"}),
                 "--sink: required for the collector role"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "collector", "--sink", "kafka:x"}),
                 "--sink: sink 'kafka:x'"));
  CHECK(contains(error_of({"--endpoints", "tcp://h:1", "--ip", "1.2.3.4", "--roles", "collector", "--sink", "stdout",
                           "--listen", "tcp://*:1"}),
                 "--listen: given but --roles has no source"));
}

}  // namespace corral::agent::config
