// Clusters that must be refused (etcd: "cluster ID mismatch", "member has
// already been bootstrapped"): members started with different
// --initial-cluster lists do not form a cluster, and a member whose data
// dir was wiped does not bootstrap a second history while its peers run.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr int kExitBadFlags = 2;
constexpr std::chrono::milliseconds kRefusedTimeoutMs{15'000};

std::string url(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

bool published(Cluster& cluster, corral::client::Client& c, size_t i) {
  auto list = c.member_list();
  if (!list.ok()) return false;
  for (const auto& m : list->members) {
    if (m.name == cluster.member(i).name && !m.client_urls.empty()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("members started with different --initial-cluster lists refuse each other", "[integration][cluster_id]") {
  Cluster scratch(ClusterOptions{.members = 2});  // ports and a root only
  // The same names (so the same member ids) and a third member, never
  // started, at a different URL in each list: two cluster ids. Together
  // n1 and n2 would be a quorum of 3.
  const int p1 = next_free_port(), p2 = next_free_port(), c1 = next_free_port(), c2 = next_free_port();
  const std::string n3a = url(next_free_port()), n3b = url(next_free_port());
  const std::string list_a = "n1=" + url(p1) + ",n2=" + url(p2) + ",n3=" + n3a;
  const std::string list_b = "n1=" + url(p1) + ",n2=" + url(p2) + ",n3=" + n3b;
  struct Started {
    std::string log;
    Process process;
  };
  std::vector<Started> members;
  for (int i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "n1" : "n2";
    std::vector<std::string> args = {"--name", name, "--data-dir", scratch.root() + "/" + name + ".corral",
                                     "--listen-peer", url(i == 0 ? p1 : p2), "--listen-client", url(i == 0 ? c1 : c2),
                                     "--initial-cluster", i == 0 ? list_a : list_b, "--tick-ms", "10",
                                     "--election-ticks", "10"};
    const std::string log = scratch.root() + "/" + name + ".out";
    members.push_back(Started{log, Process::spawn(corrald_path(), args, log)});
  }
  // The first member told that its peer is of another cluster stops; the
  // other one is left refusing messages (it may be told too, and stop).
  std::optional<int> first_exit;
  size_t stopped = 0;
  const bool one_stopped = wait_until(
      [&] {
        for (size_t i = 0; i < members.size(); ++i) {
          if (auto st = members[i].process.poll()) {
            first_exit = st;
            stopped = i;
            return true;
          }
        }
        return false;
      },
      kRefusedTimeoutMs);
  for (auto& m : members) UNSCOPED_INFO("log " << m.log << ":\n" << read_file(m.log));
  REQUIRE(one_stopped);
  CHECK(*first_exit == kExitBadFlags);
  CHECK(read_file(members[stopped].log).find("stopping") != std::string::npos);
  for (auto& m : members) {
    CHECK(read_file(m.log).find("cluster id mismatch") != std::string::npos);
    CHECK(read_file(m.log).find("leader is now") == std::string::npos);
  }
}

TEST_CASE("a wiped member restarted with --initial-cluster-state new while its peers run is refused",
          "[integration][cluster_id]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  const size_t away = 2;
  REQUIRE(wait_until([&] { return published(cluster, *c, away); }, 10'000ms));
  require_ok(c->put("/before", "1"), "put before");
  cluster.signal_member(away, SIGTERM);
  cluster.wipe_member(away);

  const auto& s = cluster.member(away);
  const std::vector<std::string> original = {
      "--name", s.name, "--data-dir", s.data_dir, "--listen-peer", s.peer_url(), "--listen-client", s.client_url(),
      "--initial-cluster", cluster.initial_cluster(), "--initial-cluster-state", "new", "--tick-ms", "10",
      "--election-ticks", "10"};
  RunResult r = run_program(corrald_path(), original, cluster.root() + "/again.out", kRefusedTimeoutMs);
  UNSCOPED_INFO("corrald exit " << r.exit_code << ":\n" << r.out);
  CHECK(r.exit_code == kExitBadFlags);
  CHECK(r.out.find("has already been bootstrapped") != std::string::npos);
  CHECK(!std::filesystem::exists(s.data_dir));
  // The others carry on.
  require_ok(c->put("/after", "2"), "put after");
}
