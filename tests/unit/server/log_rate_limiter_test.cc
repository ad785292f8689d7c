#include <catch2/catch.hpp>

#include "coordinator/server/log_rate_limiter.h"

using corral::server::LogRateLimiter;
using namespace std::chrono_literals;

TEST_CASE("a repeated line passes its burst, then is counted and reported with the next that passes",
          "[server][log]") {
  LogRateLimiter limiter(3, 1000ms);
  const char* site = "leader is now %s";
  const char* other = "lost leadership";
  auto t0 = LogRateLimiter::TimePoint{} + 1h;
  for (int i = 0; i < 3; ++i) CHECK(limiter.admit(site, t0).write);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limiter.admit(site, t0 + 10ms).write);
  // Another call site has its own budget.
  CHECK(limiter.admit(other, t0 + 10ms).write);
  auto next = limiter.admit(site, t0 + 1000ms);
  CHECK(next.write);
  CHECK(next.suppressed_before == 5);
  auto after = limiter.admit(site, t0 + 1001ms);
  CHECK(after.write);
  CHECK(after.suppressed_before == 0);
}

TEST_CASE("the limiter's table of call sites stays bounded", "[server][log]") {
  LogRateLimiter limiter(1, 1000ms);
  static char sites[5000];
  for (auto& c : sites) limiter.admit(&c, LogRateLimiter::TimePoint{});
  CHECK(limiter.sites() <= 4096);
}
