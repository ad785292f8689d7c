// A member's Prometheus metrics: requests by type and code, raft and key
// space gauges, as a scrape of Node::metrics() sees them.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/server/node.h"
#include "coordinator/server/request_meter.h"
#include "tests/unit/server/test_client.h"
#include "tests/unit/server/test_env.h"

using namespace corral;
using namespace corral::server;
using namespace std::chrono_literals;
namespace wire = corral::schema::api;

namespace {

// The value of one series in a scrape (`name{labels} value`), if present.
std::optional<double> sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) {
    if (!text.starts_with(series + " ")) return std::nullopt;
    at = 0;
  } else {
    at += 1;
  }
  return std::strtod(text.c_str() + at + series.size() + 1, nullptr);
}

// Waits (bounded) until `ok` holds for a scrape; returns the last scrape.
template <class F>
std::string scrape_until(const Node& node, F ok, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string text = node.metrics().render();
  while (!ok(text) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    text = node.metrics().render();
  }
  return text;
}

}  // namespace

TEST_CASE("a member counts requests by type and code, and publishes its gauges", "[server][metrics]") {
  auto dir = testing::temp_dir("corral-node-metrics", "single");
  zmq::context_t ctx(1);
  NodeOptions o;
  o.name = "solo";
  o.data_dir = dir;
  o.listen_peer = "tcp://127.0.0.1:0";
  o.listen_client = "tcp://127.0.0.1:0";
  o.tick_ms = 20;
  auto node = Node::create(o);
  REQUIRE(node.ok());
  (*node)->start();
  testing::TestClient c(ctx, (*node)->client_endpoint());
  REQUIRE(c.ok());

  // Writes until one is done (a leader is elected first), then two more.
  bool put = false;
  for (int i = 0; i < 500 && !put; ++i) {
    auto r = c.call(testing::put("/m/a", "1"), 2000ms);
    put = r && r->get().getResponse().isPut();
    if (!put) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(put);
  REQUIRE(c.call(testing::put("/m/b", "2")));
  REQUIRE(c.call(testing::put("/m/c", "3")));
  // A range at a future revision: answered with an error code.
  auto future = c.call([](wire::Request::Builder r) {
    auto g = r.initRange();
    g.setKey(testing::as_data("/m/a"));
    g.setRevision(1000);
  });
  REQUIRE(future);
  REQUIRE(future->get().getResponse().isError());

  const std::string text = scrape_until(**node, [](const std::string& t) {
    return sample(t, "corral_mvcc_current_revision") == 3 && sample(t, "corral_mvcc_keys") == 3;
  });
  INFO(text);
  CHECK(sample(text, "corral_mvcc_current_revision") == 3);
  CHECK(sample(text, "corral_mvcc_keys") == 3);
  CHECK(sample(text, "corral_server_requests_total{type=\"put\",code=\"ok\"}") == 3);
  CHECK(sample(text, "corral_server_requests_total{type=\"range\",code=\"futureRevision\"}") == 1);
  CHECK(sample(text, "corral_server_request_duration_seconds_count{type=\"put\"}") >= 3);
  CHECK(sample(text, "corral_server_is_leader") == 1);
  CHECK(sample(text, "corral_server_has_leader") == 1);
  CHECK(sample(text, "corral_server_raft_term") >= 1);
  CHECK(sample(text, "corral_server_leader_changes_seen_total") == 1);
  CHECK(sample(text, "corral_server_proposals_applied_total") >= 4);  // the puts and the new term's entry
  CHECK(sample(text, "corral_server_proposals_pending") == 0);
  CHECK(sample(text, "corral_mvcc_db_total_size_in_bytes") > 0);
  CHECK(sample(text, "corral_disk_wal_fsync_duration_seconds_count") >= 1);
  CHECK(sample(text, "corral_server_apply_duration_seconds_count") >= 1);
  CHECK(sample(text, "corral_server_loop_turn_duration_seconds_count") >= 1);
  (*node)->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("request types and codes are named as api.capnp names them", "[server][metrics]") {
  CHECK(RequestMeter::type_name(wire::Request::PUT) == "put");
  CHECK(RequestMeter::type_name(wire::Request::LEASE_GRANT) == "leaseGrant");
  CHECK(RequestMeter::code_name(static_cast<uint16_t>(wire::ErrorCode::NOT_LEADER)) == "notLeader");
  CHECK(RequestMeter::code_name(0) == "ok");
  CHECK(RequestMeter::code_name(60000) == "unknown");
}

TEST_CASE("the request meter ignores frames it cannot read and forgets closed connections", "[server][metrics]") {
  ServerMetrics m;
  RequestMeter meter(m);
  net::ConnectionId conn{"c1"};
  auto now = std::chrono::steady_clock::now();
  meter.received(conn, 7, wire::Request::PUT, now);
  meter.received(conn, 8, wire::Request::RANGE, now);
  meter.answered(conn, std::string(16, '\xff'), now);  // garbage: ignored, no crash
  meter.answered(conn, "", now);
  CHECK(meter.waiting() == 2);
  meter.forget(conn);
  CHECK(meter.waiting() == 0);
  CHECK(m.registry.render().find("corral_server_requests_total") == std::string::npos);
}

TEST_CASE("the request meter stays bounded: stale entries go, the rest are counted untracked", "[server][metrics]") {
  ServerMetrics m;
  RequestMeter meter(m);
  net::ConnectionId conn{"c1"};
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t id = 1; id <= RequestMeter::kMaxWaiting; ++id) meter.received(conn, id, wire::Request::PUT, t0);
  CHECK(meter.waiting() == RequestMeter::kMaxWaiting);
  meter.received(conn, 0, wire::Request::RANGE, t0 + 1s);  // full, none stale: counted at once
  CHECK(meter.waiting() == RequestMeter::kMaxWaiting);
  CHECK(m.registry.render().find("corral_server_requests_total{type=\"range\",code=\"untracked\"} 1\n") !=
        std::string::npos);
  meter.received(conn, 0, wire::Request::RANGE, t0 + RequestMeter::kMaxWait + 2s);  // all stale now
  CHECK(meter.waiting() == 1);
}
