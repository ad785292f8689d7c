// Failed authentications are bounded per (user, connection)
// (login_limiter.h); the password worker's queue is bounded
// (password_worker.h).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "coordinator/auth/password.h"
#include "coordinator/server/login_limiter.h"
#include "coordinator/server/password_worker.h"

using namespace corral;
using namespace corral::server;
using namespace std::chrono_literals;

TEST_CASE("a key may fail its burst, then waits for the refill", "[server][auth][limiter]") {
  LoginLimiter limiter(LoginLimits{3, 1000ms, 100});
  const auto t0 = LoginLimiter::Clock::now();
  const std::string alice = login_limiter_key("alice", "conn-1");
  for (int i = 0; i < 3; ++i) {
    CHECK(limiter.wait_before_try(alice, t0).count() == 0);
    limiter.failed(alice, t0);
  }
  CHECK(limiter.wait_before_try(alice, t0) == 1000ms);
  CHECK(limiter.wait_before_try(alice, t0 + 400ms) == 600ms);
  // Another connection, or another user, is not held back.
  CHECK(limiter.wait_before_try(login_limiter_key("alice", "conn-2"), t0).count() == 0);
  CHECK(limiter.wait_before_try(login_limiter_key("bob", "conn-1"), t0).count() == 0);
  // One refill later, one more try.
  CHECK(limiter.wait_before_try(alice, t0 + 1000ms).count() == 0);
  limiter.failed(alice, t0 + 1000ms);
  CHECK(limiter.wait_before_try(alice, t0 + 1000ms).count() > 0);
  // A success forgets the failures.
  limiter.succeeded(alice);
  CHECK(limiter.wait_before_try(alice, t0 + 1000ms).count() == 0);
}

TEST_CASE("the limiter's table is bounded", "[server][auth][limiter]") {
  LoginLimiter limiter(LoginLimits{1, 1000ms, 50});
  const auto t0 = LoginLimiter::Clock::now();
  for (int i = 0; i < 1000; ++i) limiter.failed(login_limiter_key("u" + std::to_string(i), "c"), t0);
  CHECK(limiter.keys() <= 50);
}

TEST_CASE("the password worker checks off the caller's thread and bounds its queue", "[server][auth][limiter]") {
  std::atomic<int> wakes{0};
  PasswordWorker worker([&] { wakes.fetch_add(1); });
  const std::string stored = auth::hash_password("right");
  size_t taken = 0;
  for (size_t i = 0; i < kMaxQueuedChecks * 4; ++i) {
    PasswordCheck c;
    c.request_id = i;
    c.user = "alice";
    c.password = i == 0 ? "right" : "wrong";
    c.stored_hash = stored;
    if (worker.submit(std::move(c))) ++taken;
  }
  // A burst larger than the bound is refused past it.
  CHECK(taken >= kMaxQueuedChecks);
  CHECK(taken < kMaxQueuedChecks * 4);
  std::vector<PasswordCheck> done;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (done.size() < taken && std::chrono::steady_clock::now() < deadline) {
    for (auto& c : worker.take_done()) done.push_back(std::move(c));
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(done.size() == taken);
  CHECK(wakes.load() > 0);
  for (const auto& c : done) CHECK(c.matched == (c.request_id == 0));
}
