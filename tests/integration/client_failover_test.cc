// A hung member (SIGSTOP) listed first in the endpoints: the client library
// and corralctl move on to the members that answer, for writes as for reads,
// within bounded time, and never send a write twice (client.h: trust and
// probes).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPuts = 40;
constexpr int kCtlPuts = 3;
// Each request: one probe timeout on the hung member, an election at most,
// and the answer; far below the 5 s request timeout every call has.
constexpr std::chrono::milliseconds kPutsBudgetMs{20'000};
constexpr std::chrono::milliseconds kCtlBudgetMs{4'000};
constexpr std::chrono::milliseconds kCtlDeadlineMs{15'000};

}  // namespace

TEST_CASE("a hung member listed first: puts and reads through the client and corralctl succeed",
          "[integration][client]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  cluster.pause_member(0);  // endpoints() lists member 0 first
  REQUIRE(cluster.wait_for_leader().has_value());

  auto client = cluster.client(cluster.endpoints());
  const auto start = Clock::now();
  int failed = 0;
  std::string first_error;
  for (int i = 0; i < kPuts; ++i) {
    auto r = client->put("/failover/k" + std::to_string(i), "v" + std::to_string(i));
    if (!r.ok()) {
      ++failed;
      if (first_error.empty()) first_error = corral::client::to_string(r.error());
    }
  }
  const auto puts_took = Clock::now() - start;
  INFO("first error: " << first_error);
  CHECK(failed == 0);
  CHECK(puts_took < kPutsBudgetMs);

  // Each key once, at version 1: no put was applied twice.
  auto all = require_ok(client->get_prefix("/failover/"), "read back");
  CHECK(all.count == kPuts);
  for (const auto& kv : all.kvs) CHECK(kv.version == 1);
  auto one = require_ok(client->get("/failover/k7"), "linearizable get");
  REQUIRE(one.kvs.size() == 1);
  CHECK(one.kvs[0].value == "v7");

  // A fresh client for reads only: it too leaves the hung member.
  auto reader = cluster.client(cluster.endpoints());
  auto read = require_ok(reader->get("/failover/k1"), "get through a fresh client");
  REQUIRE(read.kvs.size() == 1);
  CHECK(read.kvs[0].value == "v1");

  for (int i = 0; i < kCtlPuts; ++i) {
    const std::string scratch = cluster.root() + "/ctl-" + std::to_string(i) + ".out";
    const auto began = Clock::now();
    RunResult r = run_program(corralctl_path(),
                              {"--endpoints", cluster.endpoints_text(), "put",
                               "/failover/ctl" + std::to_string(i), "x"},
                              scratch, kCtlDeadlineMs);
    INFO("corralctl put -> exit " << r.exit_code << ": " << r.out);
    CHECK(r.exit_code == 0);
    CHECK(Clock::now() - began < kCtlBudgetMs);
  }
  const std::string scratch = cluster.root() + "/ctl-get.out";
  RunResult get = run_program(corralctl_path(),
                              {"--endpoints", cluster.endpoints_text(), "get", "/failover/ctl2"},
                              scratch, kCtlDeadlineMs);
  INFO("corralctl get -> exit " << get.exit_code << ": " << get.out);
  CHECK(get.exit_code == 0);
  CHECK(get.out == "/failover/ctl2\nx\n");
  cluster.resume_member(0);
}
