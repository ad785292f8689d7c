#include <catch2/catch.hpp>

#include "agent/config/config.h"

namespace corral::agent::config {
namespace {

AgentConfig valid_collector() {
  AgentConfig c;
  c.endpoints = {"tcp://10.0.0.1:2379"};
  c.id = "collector-1";
  c.ip = "10.0.0.5";
  c.collector = true;
  c.sink = "file:/var/lib/corral/sink";
  return c;
}

std::string problem(const AgentConfig& c) {
  try {
    validate(c);
  } catch (const ConfigError& e) {
    return e.where();
  }
  return "";
}

}  // namespace

TEST_CASE("validate accepts a config built in code and names the broken field", "[agent_config][validate]") {
  AgentConfig c = valid_collector();
  CHECK(problem(c).empty());
  auto broken = [&](auto change) {
    AgentConfig copy = valid_collector();
    change(copy);
    return problem(copy);
  };
  CHECK(broken([](AgentConfig& x) { x.endpoints.clear(); }) == "--endpoints");
  CHECK(broken([](AgentConfig& x) { x.id = ""; }) == "--id");
  CHECK(broken([](AgentConfig& x) { x.ip = "bad ip"; }) == "--ip");
  CHECK(broken([](AgentConfig& x) { x.host = std::string(257, 'h'); }) == "--host");
  CHECK(broken([](AgentConfig& x) { x.collector = false; }) == "--roles");
  CHECK(broken([](AgentConfig& x) { x.sink = ""; }) == "--sink");
  CHECK(broken([](AgentConfig& x) { x.capacity = 0; }) == "--capacity");
  CHECK(broken([](AgentConfig& x) { x.lease_ttl_seconds = 301; }) == "--lease-ttl-seconds");
  CHECK(broken([](AgentConfig& x) {
          x.source = true;
          x.listen = "tcp://*:7070";
          x.sources = {StreamSource{"web", "access", {"/a.log"}}, StreamSource{"web", "access", {"/b.log"}}};
        }) == "--source");
  CHECK(broken([](AgentConfig& x) {
          x.source = true;
          x.listen = "tcp://*:7070";
          x.sources = {StreamSource{"web", "access", {}}};
        }) == "--source");
  CHECK(broken([](AgentConfig& x) {
          x.source = true;
          x.listen = "tcp://*:7070";
          x.sources = {StreamSource{"web", "access", std::vector<std::string>(kMaxGlobsPerSource + 1, "/x")}};
        }) == "--source");
}

}  // namespace corral::agent::config
