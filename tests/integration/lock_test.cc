// corralctl lock with real processes: holders of one lock never overlap
// (each records its interval in a shared file from inside the lock), and a
// holder killed with SIGKILL hands the lock over once its session lease
// expires, not before. corralctl elect: a second candidate leads only
// after the first resigns, and an observer sees both.
#include <catch2/catch.hpp>

#include <signal.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kHoldersDoneMs{60'000};
constexpr int kHolders = 4;
constexpr int kTtlSeconds = 2;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("corralctl lock: holders never overlap", "[integration][lock]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  const std::string record = cluster.root() + "/intervals";
  const std::string section = "echo \"start $CORRAL_LOCK_KEY\" >> " + record + "; sleep 0.2; echo \"end $CORRAL_LOCK_KEY\" >> " +
                              record;
  std::vector<Process> holders;
  for (int i = 0; i < kHolders; ++i) {
    holders.push_back(Process::spawn(corralctl_path(),
                                     {"--endpoints", cluster.endpoints_text(), "lock", "/locks/overlap", "sh", "-c", section},
                                     cluster.root() + "/holder" + std::to_string(i) + ".log"));
  }
  for (int i = 0; i < kHolders; ++i) {
    auto code = holders[i].wait_for(kHoldersDoneMs);
    INFO("holder " << i << ": " << read_file(cluster.root() + "/holder" + std::to_string(i) + ".log"));
    REQUIRE(code.has_value());
    CHECK(*code == 0);
  }
  const std::vector<std::string> lines = lines_of(read_file(record));
  INFO("intervals:\n" << read_file(record));
  REQUIRE(lines.size() == 2 * kHolders);
  std::set<std::string> keys;
  for (size_t i = 0; i < lines.size(); i += 2) {
    // Each start is followed by the end of the same holder: no other holder in between.
    REQUIRE(lines[i].rfind("start /locks/overlap/", 0) == 0);
    CHECK(lines[i + 1] == "end" + lines[i].substr(5));
    keys.insert(lines[i]);
  }
  CHECK(keys.size() == kHolders);
  auto c = cluster.client();
  CHECK(require_ok(c->get_prefix("/locks/overlap/"), "get").kvs.empty());
}

TEST_CASE("corralctl lock: a SIGKILLed holder hands over after its lease TTL", "[integration][lock]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  const std::string ttl = std::to_string(kTtlSeconds);
  Process first = Process::spawn(corralctl_path(),
                                 {"--endpoints", cluster.endpoints_text(), "lock", "--ttl", ttl, "/locks/kill", "sleep", "600"},
                                 cluster.root() + "/first.log");
  REQUIRE(wait_until([&] { auto r = c->get_prefix("/locks/kill/"); return r.ok() && r->kvs.size() == 1; }, 10'000ms));
  const std::string got = cluster.root() + "/second-got";
  Process second = Process::spawn(
      corralctl_path(),
      {"--endpoints", cluster.endpoints_text(), "lock", "--ttl", ttl, "/locks/kill", "sh", "-c", "echo got > " + got},
      cluster.root() + "/second.log");
  // The second waits while the first holds.
  REQUIRE(wait_until([&] { auto r = c->get_prefix("/locks/kill/"); return r.ok() && r->kvs.size() == 2; }, 10'000ms));
  CHECK_FALSE(second.wait_for(1000ms).has_value());
  CHECK(read_file(got).empty());

  const auto killed_at = std::chrono::steady_clock::now();
  first.kill_and_wait();
  auto code = second.wait_for(std::chrono::seconds(kTtlSeconds + 8));
  const auto took = std::chrono::steady_clock::now() - killed_at;
  INFO("second: " << read_file(cluster.root() + "/second.log"));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(read_file(got) == "got\n");
  // Handed over by the lease's expiry: within its TTL and a little, not at once
  // (the first refreshed its lease until killed, so at least ttl/3 of it was left).
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  INFO("handed over " << ms << " ms after the SIGKILL");
  CHECK(ms >= kTtlSeconds * 1000 / 3);
  CHECK(ms <= kTtlSeconds * 1000 + 3000);
}

TEST_CASE("corralctl elect: one leader at a time, observers see each", "[integration][elect]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  const std::string ep = cluster.endpoints_text();
  Process observer = Process::spawn(corralctl_path(), {"--endpoints", ep, "elect", "-l", "/elections/e"},
                                    cluster.root() + "/observer.log");
  Process a = Process::spawn(corralctl_path(), {"--endpoints", ep, "elect", "/elections/e", "alpha"}, cluster.root() + "/a.log");
  REQUIRE(wait_until([&] { return read_file(cluster.root() + "/a.log").find("alpha") != std::string::npos; }, 10'000ms));
  Process b = Process::spawn(corralctl_path(), {"--endpoints", ep, "elect", "/elections/e", "beta"}, cluster.root() + "/b.log");
  REQUIRE(wait_until([&] { auto r = c->get_prefix("/elections/e/"); return r.ok() && r->kvs.size() == 2; }, 10'000ms));
  CHECK_FALSE(b.wait_for(500ms).has_value());
  CHECK(read_file(cluster.root() + "/b.log").find("beta") == std::string::npos);
  a.signal(SIGTERM);  // resigns
  CHECK(a.wait_for(10'000ms) == std::optional<int>(0));
  CHECK(wait_until([&] { return read_file(cluster.root() + "/b.log").find("beta") != std::string::npos; }, 10'000ms));
  CHECK(wait_until(
      [&] {
        const std::string seen = read_file(cluster.root() + "/observer.log");
        return seen.find("alpha") != std::string::npos && seen.find("beta") != std::string::npos;
      },
      10'000ms));
  b.signal(SIGTERM);
  observer.signal(SIGTERM);
  CHECK(b.wait_for(10'000ms) == std::optional<int>(0));
  CHECK(observer.wait_for(10'000ms) == std::optional<int>(0));
}
