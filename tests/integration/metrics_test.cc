// A 3-member cluster's /metrics (corrald --listen-http), scraped over HTTP:
// request counters after puts, watchers after a watch, leader changes and
// term after the leader is killed, and promtool's lint of a scrape.
#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/metrics_text.h"
#include "tests/integration/harness/process.h"

using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr auto kMetricsTimeout = 15'000ms;  // gauges are published once a second

std::string scrape(Cluster& c, size_t i) {
  auto a = http_request(c.member(i).http_port, "GET", "/metrics", {}, {}, 3000ms);
  return a.status == 200 ? a.body : std::string();
}

double sum_over_members(Cluster& c, const std::string& series, std::optional<size_t> skip = std::nullopt) {
  double total = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (i != skip) total += sample(scrape(c, i), series);
  }
  return total;
}

}  // namespace

TEST_CASE("metrics: a cluster's counters move after puts, a watch and a leader kill", "[metrics]") {
  ClusterOptions o;
  o.members = 3;
  o.http = true;
  Cluster cluster(o);
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);

  // Every member serves the member registry (not the placeholder).
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto a = http_request(cluster.member(i).http_port, "GET", "/metrics");
    REQUIRE(a.status == 200);
    CHECK(a.headers["content-type"].find("version=0.0.4") != std::string::npos);
    CHECK(a.body.find("# TYPE corral_server_leader_changes_seen_total counter") != std::string::npos);
  }

  // Puts: answered as put/ok by the leader, applied on every member.
  auto client = cluster.client();
  constexpr int kPuts = 20;
  for (int i = 0; i < kPuts; ++i) REQUIRE(client->put("/metrics/k" + std::to_string(i), "v").ok());
  const std::string put_ok = "corral_server_requests_total{type=\"put\",code=\"ok\"}";
  CHECK(sum_over_members(cluster, put_ok) >= kPuts);
  CHECK(sum_over_members(cluster, "corral_server_request_duration_seconds_count{type=\"put\"}") >= kPuts);
  // The leader now: on a loaded machine an election may have moved it since
  // the start, and the checks below are of whoever leads.
  leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const std::string leader_text = scrape(cluster, *leader);
  CHECK(sample(leader_text, "corral_network_peer_sent_bytes_total") > 0);
  CHECK(sample(leader_text, "corral_disk_wal_fsync_duration_seconds_count") > 0);
  // Published once a second: the storage writer's gauges (a quiet disk never fills its queue).
  CHECK(wait_until([&] { return scrape(cluster, *leader).find("# TYPE corral_disk_storage_writes_in_flight gauge") != std::string::npos; },
                   kMetricsTimeout, 50ms));
  const std::string writer_text = scrape(cluster, *leader);
  CHECK(writer_text.find("# TYPE corral_disk_storage_writer_queue_full_total counter") != std::string::npos);
  CHECK(sample(writer_text, "corral_disk_storage_writer_queue_full_total") == 0);
  for (size_t i = 0; i < cluster.size(); ++i) {
    INFO("member " << i);
    CHECK(wait_until([&] { return sample(scrape(cluster, i), "corral_server_proposals_applied_total") >= kPuts; },
                     kMetricsTimeout, 50ms));
    CHECK(wait_until([&] { return sample(scrape(cluster, i), "corral_mvcc_keys") == kPuts; }, kMetricsTimeout, 50ms));
    // Gauges, published once a second: wait for this leader's to show.
    CHECK(wait_until([&] { return sample(scrape(cluster, i), "corral_server_is_leader") == (i == *leader ? 1 : 0); },
                     kMetricsTimeout, 50ms));
    const auto text = scrape(cluster, i);
    CHECK(sample(text, "corral_server_has_leader") == 1);
    if (i != *leader) CHECK(sample(text, "corral_network_peer_received_bytes_total") > 0);
  }

  // A watch: one watcher and one watch stream on the member it went to.
  {
    auto handle = client->watch({.key = "/metrics/", .range_end = "/metrics0"}, [](const corral::client::WatchUpdate&) {});
    CHECK(wait_until([&] { return sum_over_members(cluster, "corral_mvcc_watchers") == 1; }, kMetricsTimeout, 50ms));
    CHECK(sum_over_members(cluster, "corral_mvcc_watch_streams") == 1);
    CHECK(sum_over_members(cluster, "corral_server_requests_total{type=\"watchCreate\",code=\"ok\"}") == 1);
  }

  // promtool accepts a real scrape.
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const std::string path = cluster.root() + "/scrape.txt";
    std::ofstream(path) << scrape(cluster, *leader);
    auto lint = run_program("/bin/sh", {"-c", "promtool check metrics < " + path}, cluster.root() + "/lint.out", 10'000ms);
    INFO(lint.out);
    CHECK(lint.exit_code == 0);
  } else {
    WARN("promtool not installed: the scrape was not linted");
  }

  // Kill the leader: a survivor sees a second leader change in a later term.
  const size_t survivor = (*leader + 1) % cluster.size();
  const double term_before = sample(scrape(cluster, survivor), "corral_server_raft_term");
  const uint64_t old_leader_id = cluster.member_id(*leader);
  cluster.signal_member(*leader, SIGKILL);
  auto next = cluster.wait_for_leader(kLeaderTimeoutMs, old_leader_id);
  REQUIRE(next);
  CHECK(wait_until(
      [&] {
        auto text = scrape(cluster, survivor);
        return sample(text, "corral_server_leader_changes_seen_total") >= 2 &&
               sample(text, "corral_server_raft_term") > term_before && sample(text, "corral_server_has_leader") == 1;
      },
      kMetricsTimeout, 50ms));
  CHECK(wait_until([&] { return sample(scrape(cluster, *next), "corral_server_is_leader") == 1; }, kMetricsTimeout, 50ms));
}
