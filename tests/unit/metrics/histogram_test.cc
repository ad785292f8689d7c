#include <catch2/catch.hpp>

#include <chrono>

#include "coordinator/metrics/registry.h"

using namespace corral::metrics;

TEST_CASE("histogram buckets are cumulative, le is inclusive, +Inf equals count") {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency.", {0.1, 1, 2.5});
  h.observe(0.05);
  h.observe(0.1);  // on the bound: in le="0.1"
  h.observe(0.5);
  h.observe(3);    // past every bound: only +Inf
  h.observe(std::nan(""));  // ignored
  CHECK(r.render() ==
        "# HELP lat_seconds Latency.\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{le=\"0.1\"} 2\n"
        "lat_seconds_bucket{le=\"1\"} 3\n"
        "lat_seconds_bucket{le=\"2.5\"} 3\n"
        "lat_seconds_bucket{le=\"+Inf\"} 4\n"
        "lat_seconds_sum 3.65\n"
        "lat_seconds_count 4\n");
}

TEST_CASE("a labelled histogram puts le after its labels") {
  Registry r;
  auto& f = r.histogram_family("req_seconds", "By type.", {"type"}, {1});
  f.with({"put"}).observe(std::chrono::milliseconds(500));
  CHECK(r.render() ==
        "# HELP req_seconds By type.\n"
        "# TYPE req_seconds histogram\n"
        "req_seconds_bucket{type=\"put\",le=\"1\"} 1\n"
        "req_seconds_bucket{type=\"put\",le=\"+Inf\"} 1\n"
        "req_seconds_sum{type=\"put\"} 0.5\n"
        "req_seconds_count{type=\"put\"} 1\n");
}

TEST_CASE("the latency buckets increase") {
  auto b = latency_buckets();
  REQUIRE(b.size() > 5);
  for (size_t i = 1; i < b.size(); ++i) CHECK(b[i] > b[i - 1]);
}
