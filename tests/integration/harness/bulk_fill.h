// Fills a cluster with large values, for the snapshot tests: `keys` puts of
// `value_bytes` under "/bulk/<i>", `in_flight` at a time. Filling only: a put
// that failed is put again (same key and value, at most `keys` retries in
// all), because with one follower down and large fsynced puts a loaded
// machine can starve the other follower past its election timeout, and the
// leader's pending puts then come back "outcome unknown". The tests' checks
// start after this phase.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <future>
#include <string>
#include <utility>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"

namespace corral::integration {

inline void fill_bulk(Cluster& c, int keys, size_t value_bytes, size_t in_flight_max,
                      std::chrono::seconds timeout) {
  auto bulk = c.client();
  const std::string value(value_bytes, 'v');
  std::deque<std::pair<int, std::future<client::Result<client::PutResult>>>> in_flight;
  std::deque<int> to_put;
  for (int i = 0; i < keys; ++i) to_put.push_back(i);
  int failed_puts = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!to_put.empty() || !in_flight.empty()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    if (!to_put.empty() && in_flight.size() < in_flight_max) {
      const int i = to_put.front();
      to_put.pop_front();
      in_flight.emplace_back(i, bulk->call_future(client::PutRequest{"/bulk/" + std::to_string(i), value}));
      continue;
    }
    auto [i, f] = std::move(in_flight.front());
    in_flight.pop_front();
    auto r = f.get();
    if (r.ok()) continue;
    UNSCOPED_INFO("bulk put " << i << ": " << client::to_string(r.error()));
    REQUIRE(++failed_puts <= keys);
    to_put.push_back(i);
  }
}

}  // namespace corral::integration
