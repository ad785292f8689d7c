// A stream of wrong passwords does not hold up other requests: password
// checks run on a worker thread (server/password_worker.h) and failed
// authentications are limited per user and connection
// (server/login_limiter.h), answered unauthenticated ("too many failed authentications") past
// the limit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;
using client::ErrorCode;

namespace {

constexpr int kWrongAttempts = 200;
// Each attacker is its own connection sending kWrongAttempts / kAttackers
// attempts at once (one thread each). The limiter's burst (5 per user and
// connection) lets 50 checks through: 50 PBKDF2 hashes, at least 0.6 s of
// CPU, which would stall every request if they ran on the node loop.
constexpr int kAttackers = 10;
constexpr int kBaselinePuts = 100;
constexpr int kMaxAttackedPuts = 5000;
constexpr int kMinAttackedPuts = 20;

std::unique_ptr<client::Client> client_as(const Cluster& c, const std::string& user, const std::string& password) {
  client::Options o;
  o.endpoints = c.endpoints();
  o.connect_timeout = 300ms;
  o.user = user;
  o.password = password;
  auto made = client::Client::connect(o);
  REQUIRE(made.ok());
  return std::move(made).value();
}

int64_t timed_put_us(client::Client& c, const std::string& key, int i) {
  const auto start = std::chrono::steady_clock::now();
  require_ok(c.put(key, std::to_string(i)), "put");
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
}

int64_t median(std::vector<int64_t> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

TEST_CASE("auth: 200 wrong passwords do not hold up puts, and the limiter answers", "[auth][limits]") {
  ClusterOptions o;
  o.members = 1;
  Cluster c(o);
  c.start();
  {
    auto open = c.client();
    require_ok(open->user_add("root", "root-pw"), "user add root");
    require_ok(open->user_add("alice", "alice-pw"), "user add alice");
    require_ok(open->auth_enable(), "auth enable");
  }
  auto root = client_as(c, "root", "root-pw");
  std::vector<int64_t> baseline;
  for (int i = 0; i < kBaselinePuts; ++i) baseline.push_back(timed_put_us(*root, "/base/" + std::to_string(i % 10), i));

  // The attackers: wrong passwords for alice, each from its own connection,
  // all at once, while root's puts are timed.
  std::vector<std::unique_ptr<client::Client>> attackers;
  for (int a = 0; a < kAttackers; ++a) attackers.push_back(c.client());
  std::atomic<int> finished{0};
  std::atomic<int> unauthenticated{0};
  std::atomic<int> too_many{0};
  std::atomic<int> other{0};
  std::mutex mu;
  std::string limited_message;  // the first limited answer's
  std::vector<std::thread> threads;
  for (int t = 0; t < kWrongAttempts; ++t) {
    threads.emplace_back([&, t] {
      auto r = attackers[t % kAttackers]->authenticate("alice", "wrong");
      if (r.ok()) {
        other.fetch_add(1);
      } else if (r.error().code == ErrorCode::kUnauthenticated &&
                 r.error().message.find("too many failed") != std::string::npos) {
        if (too_many.fetch_add(1) == 0) {
          std::lock_guard<std::mutex> lock(mu);
          limited_message = r.error().message;
        }
      } else if (r.error().code == ErrorCode::kUnauthenticated) {
        unauthenticated.fetch_add(1);
      } else {
        other.fetch_add(1);
      }
      finished.fetch_add(1);
    });
  }
  std::vector<int64_t> attacked;
  for (int i = 0; i < kMaxAttackedPuts && (finished.load() < kWrongAttempts || attacked.size() < kMinAttackedPuts); ++i) {
    attacked.push_back(timed_put_us(*root, "/attacked/" + std::to_string(i % 10), i));
  }
  for (auto& t : threads) t.join();

  const int64_t baseline_us = median(baseline);
  const int64_t attacked_us = median(attacked);
  const int64_t baseline_max_us = *std::max_element(baseline.begin(), baseline.end());
  const int64_t attacked_max_us = *std::max_element(attacked.begin(), attacked.end());
  INFO("median put: " << baseline_us << " us before, " << attacked_us << " us during the attack (" << attacked.size()
                      << " puts); " << unauthenticated.load() << " unauthenticated, " << too_many.load()
                      << " limited, " << other.load() << " other");
  WARN("median put: " << baseline_us << " us before, " << attacked_us << " us during the attack (" << attacked.size()
                      << " puts); max " << baseline_max_us << " us before, " << attacked_max_us << " us during;"
                      << " puts); " << unauthenticated.load() << " unauthenticated, " << too_many.load()
                      << " limited");
  CHECK(unauthenticated.load() + too_many.load() == kWrongAttempts);
  CHECK(other.load() == 0);
  // The limiter answered many of them without hashing.
  CHECK(too_many.load() >= kWrongAttempts / 2);
  CHECK(unauthenticated.load() >= kAttackers);
  // Generous (the machine is shared), but a loop hashing 50 passwords would
  // hold some put for their whole time (0.6 s and more).
  CHECK(attacked_us <= 4 * baseline_us + 10'000);
  CHECK(attacked_max_us <= 2 * baseline_max_us + 200'000);

  // Alice herself, from another connection, is not locked out.
  auto alice = client_as(c, "alice", "alice-pw");
  auto status = alice->authenticate("alice", "alice-pw");
  CHECK(status.ok());
  std::lock_guard<std::mutex> lock(mu);
  CHECK(limited_message.find("retry in") != std::string::npos);
}
