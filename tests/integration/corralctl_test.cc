// corralctl against a real cluster: every command a user runs first, its
// output and its exit code (0 done, 1 cluster error, 2 usage, 3 unreachable).
#include <catch2/catch.hpp>

#include <signal.h>

#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kCommandTimeoutMs{15'000};

struct Ctl {
  Cluster& cluster;
  int runs = 0;
  RunResult operator()(std::vector<std::string> args, std::string endpoints = {}) {
    std::vector<std::string> full = {"--endpoints", endpoints.empty() ? cluster.endpoints_text() : endpoints,
                                     "--command-timeout", "3s"};
    full.insert(full.end(), args.begin(), args.end());
    std::string scratch = cluster.root() + "/ctl-" + std::to_string(runs++) + ".out";
    RunResult r = run_program(corralctl_path(), full, scratch, kCommandTimeoutMs);
    UNSCOPED_INFO("corralctl " << args.at(0) << " -> exit " << r.exit_code << ":\n" << r.out);
    return r;
  }
};

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char ch : s) n += ch == '\n';
  return n;
}

}  // namespace

TEST_CASE("corralctl commands end to end", "[integration][corralctl]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  Ctl ctl{cluster};

  auto put = ctl({"put", "/ctl/a", "hello"});
  CHECK(put.exit_code == 0);
  CHECK(put.out == "OK\n");
  CHECK(ctl({"put", "/ctl/dir/b", "world"}).exit_code == 0);

  auto get = ctl({"get", "/ctl/a"});
  CHECK(get.exit_code == 0);
  CHECK(get.out == "/ctl/a\nhello\n");
  auto json = ctl({"get", "/ctl/", "--prefix", "-w", "json"});
  CHECK(json.exit_code == 0);
  CHECK(json.out.find("\"key\":\"/ctl/a\"") != std::string::npos);
  CHECK(json.out.find("\"value\":\"world\"") != std::string::npos);
  CHECK(json.out.find("\"count\":2") != std::string::npos);
  auto missing = ctl({"get", "/ctl/none"});
  CHECK(missing.exit_code == 0);
  CHECK(missing.out.empty());

  auto ls = ctl({"ls", "/ctl"});
  CHECK(ls.exit_code == 0);
  CHECK(ls.out == "a\ndir/\n");

  // watch --rev replays history, then is stopped by SIGINT with exit 0.
  auto c = cluster.client();
  const int64_t rev = require_ok(c->put("/ctl/w", "x1"), "put w").header.revision;
  require_ok(c->put("/ctl/w", "x2"), "put w again");
  const std::string watch_out = cluster.root() + "/ctl-watch.out";
  Process watch = Process::spawn(corralctl_path(),
                                 {"--endpoints", cluster.endpoints_text(), "watch", "/ctl/w", "--rev", std::to_string(rev)},
                                 watch_out);
  const std::string expected = "PUT\n/ctl/w\nx1\nPUT\n/ctl/w\nx2\nPUT\n/ctl/w\nx3\n";
  require_ok(c->put("/ctl/w", "x3"), "put w live");
  bool watched = wait_until([&] { return read_file(watch_out) == expected; }, 10000ms);
  INFO("watch output:\n" << read_file(watch_out));
  CHECK(watched);
  watch.signal(SIGINT);
  auto watch_exit = watch.wait_for(5000ms);
  REQUIRE(watch_exit);
  CHECK(*watch_exit == 0);

  auto del = ctl({"del", "/ctl/", "--prefix"});
  CHECK(del.exit_code == 0);
  CHECK(del.out == "3\n");

  auto grant = ctl({"lease", "grant", "60"});
  CHECK(grant.exit_code == 0);
  REQUIRE(grant.out.rfind("lease ", 0) == 0);
  const std::string lease_hex = grant.out.substr(6, grant.out.find(' ', 6) - 6);
  CHECK(grant.out == "lease " + lease_hex + " granted with TTL(60s)\n");
  CHECK(ctl({"put", "/ctl/leased", "v", "--lease", lease_hex}).exit_code == 0);
  auto ttl = ctl({"lease", "ttl", lease_hex, "--keys"});
  CHECK(ttl.exit_code == 0);
  CHECK(ttl.out.find("granted with TTL(60s)") != std::string::npos);
  CHECK(ttl.out.find("/ctl/leased") != std::string::npos);
  auto leases = ctl({"lease", "list"});
  CHECK(leases.exit_code == 0);
  CHECK(leases.out.find(lease_hex) != std::string::npos);

  // An agent's registration: the lease and its keys in one request.
  auto reg = ctl({"lease", "grant", "60", "--put", "/ctl/agents/a", "up", "--put", "/ctl/agents/b", "up"});
  CHECK(reg.exit_code == 0);
  REQUIRE(reg.out.rfind("lease ", 0) == 0);
  const std::string reg_hex = reg.out.substr(6, reg.out.find(' ', 6) - 6);
  auto reg_ttl = ctl({"lease", "ttl", reg_hex, "--keys"});
  CHECK(reg_ttl.out.find("/ctl/agents/a") != std::string::npos);
  CHECK(reg_ttl.out.find("/ctl/agents/b") != std::string::npos);
  CHECK(ctl({"lease", "grant", "60", "--put", "/ctl/agents/c"}).exit_code == 2);  // KEY without VALUE
  CHECK(ctl({"lease", "revoke", reg_hex}).exit_code == 0);
  CHECK(ctl({"get", "/ctl/agents/", "--prefix"}).out.empty());

  auto members = ctl({"member", "list"});
  CHECK(members.exit_code == 0);
  CHECK(count_lines(members.out) == cluster.size());
  for (size_t i = 0; i < cluster.size(); ++i) {
    CHECK(members.out.find(", " + cluster.member(i).name + ", ") != std::string::npos);
  }
  auto status = ctl({"endpoint", "status"});
  CHECK(status.exit_code == 0);
  CHECK(count_lines(status.out) == cluster.size());
  auto health = ctl({"endpoint", "health"});
  CHECK(health.exit_code == 0);
  CHECK(health.out.find("is healthy") != std::string::npos);

  // Exit codes of the failures.
  CHECK(ctl({"get"}).exit_code == 2);                         // missing argument
  CHECK(ctl({"lease", "ttl", "not-hex"}).exit_code == 2);     // bad id
  CHECK(ctl({"compaction", "1000000"}).exit_code == 1);       // future revision
  CHECK(ctl({"member", "remove", "1234"}).exit_code == 1);    // no such member
  // Nobody listens there: the port of a member that is stopped.
  cluster.signal_member(2, SIGKILL);
  auto unreachable = ctl({"get", "/ctl/a"}, cluster.member(2).client_url());
  CHECK(unreachable.exit_code == 3);
}
