// corralctl against a real cluster: every command a user runs first, its
// output and its exit code (0 done, 1 cluster error, 2 usage, 3 unreachable).
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <functional>
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

// corralctl with `input` on its stdin (through sh: the harness gives
// children /dev/null).
RunResult ctl_with_stdin(Cluster& cluster, const std::vector<std::string>& args, const std::string& input,
                         const std::string& name) {
  const std::string in_path = cluster.root() + "/" + name + ".in";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  std::vector<std::string> full = {"-c", "exec \"$0\" \"$@\" < '" + in_path + "'", corralctl_path(),
                                   "--endpoints", cluster.endpoints_text(), "--command-timeout", "3s"};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = run_program("/bin/sh", full, cluster.root() + "/" + name + ".out", kCommandTimeoutMs);
  UNSCOPED_INFO("corralctl " << args.at(0) << " < " << name << " -> exit " << r.exit_code << ":\n" << r.out);
  return r;
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char ch : s) n += ch == '\n';
  return n;
}

// Runs `corralctl watch ...` in the background, calls `meanwhile`, and
// checks the watch prints exactly `expected`, then stops on SIGINT with 0.
void expect_watch(Cluster& cluster, std::vector<std::string> args, const std::string& out_name,
                  const std::string& expected, const std::function<void()>& meanwhile) {
  const std::string watch_out = cluster.root() + "/" + out_name;
  args.insert(args.begin(), {"--endpoints", cluster.endpoints_text()});
  Process watch = Process::spawn(corralctl_path(), args, watch_out);
  meanwhile();
  bool watched = wait_until([&] { return read_file(watch_out) == expected; }, 10000ms);
  INFO("watch output:\n" << read_file(watch_out));
  CHECK(watched);
  watch.signal(SIGINT);
  auto watch_exit = watch.wait_for(5000ms);
  REQUIRE(watch_exit);
  CHECK(*watch_exit == 0);
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
  // The endpoints may come from CORRALCTL_ENDPOINTS, as etcdctl's from ETCDCTL_ENDPOINTS.
  RunResult from_env = run_program(
      "/bin/sh", {"-c", "CORRALCTL_ENDPOINTS='" + cluster.endpoints_text() + "' exec \"$0\" get /ctl/a", corralctl_path()},
      cluster.root() + "/ctl-env.out", kCommandTimeoutMs);
  CHECK(from_env.exit_code == 0);
  CHECK(from_env.out == "/ctl/a\nhello\n");
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
  expect_watch(cluster, {"watch", "/ctl/w", "--rev", std::to_string(rev)}, "ctl-watch.out",
               "PUT\n/ctl/w\nx1\nPUT\n/ctl/w\nx2\nPUT\n/ctl/w\nx3\n",
               [&] { require_ok(c->put("/ctl/w", "x3"), "put w live"); });

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

TEST_CASE("corralctl values from a file and stdin, txn from stdin, clear errors for bad input",
          "[integration][corralctl]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  Ctl ctl{cluster};
  auto c = cluster.client();

  // A value past the 128 KiB an argument may hold, with every byte value in it.
  std::string big;
  for (size_t i = 0; i < 300 * 1024; ++i) big += static_cast<char>(i % 256);
  const std::string big_path = cluster.root() + "/big.value";
  {
    std::ofstream f(big_path, std::ios::binary);
    f << big;
  }
  CHECK(ctl({"put", "/ctl/big", "--from-file", big_path}).exit_code == 0);
  auto got = require_ok(c->get("/ctl/big"), "get big");
  REQUIRE(got.kvs.size() == 1);
  CHECK(got.kvs[0].value == big);

  // VALUE omitted: stdin, as it is (etcdctl keeps the trailing newline too).
  CHECK(ctl_with_stdin(cluster, {"put", "/ctl/stdin"}, "from stdin\n", "put-stdin").exit_code == 0);
  got = require_ok(c->get("/ctl/stdin"), "get stdin");
  REQUIRE(got.kvs.size() == 1);
  CHECK(got.kvs[0].value == "from stdin\n");

  // Bad input: a typed error, and nothing changes.
  const int64_t before = require_ok(c->status(), "status").header.revision;
  CHECK(ctl({"put", "/ctl/x", "v", "--from-file", big_path}).exit_code == 2);  // both
  auto missing = ctl({"put", "/ctl/x", "--from-file", cluster.root() + "/none"});
  CHECK(missing.exit_code == 5);
  CHECK(missing.out.find("cannot open") != std::string::npos);
  auto zero = ctl({"compaction", "0"});
  CHECK(zero.exit_code == 2);
  CHECK(zero.out.find("at least 1, got 0") != std::string::npos);
  CHECK(zero.out.size() < 200);  // not a double's 309-digit limit
  auto negative = ctl({"get", "/ctl/a", "--rev", "-1"});
  CHECK(negative.exit_code == 2);
  CHECK(negative.out.size() < 200);
  // Lease ids in hex, in errors as everywhere.
  auto revoke = ctl({"lease", "revoke", "abc123"});
  CHECK(revoke.exit_code == 1);
  CHECK(revoke.out.find("lease abc123 not found") != std::string::npos);
  auto leased = ctl({"put", "/ctl/x", "v", "--lease", "1f"});
  CHECK(leased.exit_code == 1);
  CHECK(leased.out.find("lease 1f not found") != std::string::npos);
  CHECK(require_ok(c->status(), "status").header.revision == before);

  // txn: etcdctl's syntax, success then failure branch.
  require_ok(c->put("/ctl/t", "1"), "put t");
  const std::string txn_text =
      "val(\"/ctl/t\") = \"1\"\n"
      "\n"
      "put /ctl/t \"2\"\n"
      "get /ctl/t\n"
      "\n"
      "put /ctl/t \"no\"\n"
      "\n";
  auto success = ctl_with_stdin(cluster, {"txn"}, txn_text, "txn-1");
  CHECK(success.exit_code == 0);
  CHECK(success.out == "SUCCESS\n\nOK\n/ctl/t\n2\n");
  auto failure = ctl_with_stdin(cluster, {"txn"}, txn_text, "txn-2");
  CHECK(failure.exit_code == 0);
  CHECK(failure.out == "FAILURE\n\nOK\n");
  got = require_ok(c->get("/ctl/t"), "get t");
  REQUIRE(got.kvs.size() == 1);
  CHECK(got.kvs[0].value == "no");
  auto interactive = ctl_with_stdin(cluster, {"txn", "-i"}, "mod(\"/ctl/t\") > \"0\"\n\nget /ctl/t\n\n\n",
                                    "txn-i");
  CHECK(interactive.exit_code == 0);
  CHECK(interactive.out.find("compares:") != std::string::npos);
  CHECK(interactive.out.find("SUCCESS") != std::string::npos);

  auto json = ctl_with_stdin(cluster, {"txn", "-w", "json"}, "\nget /ctl/t\n", "txn-json");
  CHECK(json.exit_code == 0);
  CHECK(json.out.rfind("{\"header\":", 0) == 0);
  CHECK(json.out.find("\"succeeded\":true}\n{\"header\":") != std::string::npos);
  CHECK(json.out.find("\"value\":\"no\"") != std::string::npos);

  // A malformed line: usage error naming the line; nothing applied.
  const int64_t rev = require_ok(c->status(), "status").header.revision;
  auto bad = ctl_with_stdin(cluster, {"txn"}, "mod(\"/ctl/t\") > \"0\"\n\nput /ctl/t \"3\"\nfrob /ctl/t\n\n",
                            "txn-bad");
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("txn line 4") != std::string::npos);
  CHECK(bad.out.find("unknown op 'frob'") != std::string::npos);
  CHECK(require_ok(c->status(), "status").header.revision == rev);
}

TEST_CASE("corralctl speaks etcdctl: watch output, get ranges and sorting, aliases, unknown commands",
          "[integration][corralctl]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  Ctl ctl{cluster};
  auto c = cluster.client();

  // watch --prev-kv in etcdctl 3.4's form: the previous key and value before
  // the event's own; a DELETE's value line is there, empty.
  const int64_t rev = require_ok(c->put("/e/w", "v1"), "put w").header.revision;
  require_ok(c->put("/e/w", "v2"), "put w again");
  require_ok(c->del("/e/w"), "del w");
  expect_watch(cluster, {"watch", "/e/w", "--prev-kv", "--rev", std::to_string(rev)}, "ctl-watch-prev.out",
               "PUT\n/e/w\nv1\nPUT\n/e/w\nv1\n/e/w\nv2\nDELETE\n/e/w\nv2\n/e/w\n\n", [] {});

  // get with a range end, --from-key, sorting, values only, hex.
  require_ok(c->put("/r/a", "3"), "put a");
  require_ok(c->put("/r/b", "1"), "put b");
  require_ok(c->put("/r/c", "2"), "put c");
  CHECK(ctl({"get", "/r/a", "/r/c"}).out == "/r/a\n3\n/r/b\n1\n");
  CHECK(ctl({"get", "/r/b", "--from-key", "--keys-only"}).out == "/r/b\n\n/r/c\n\n");
  CHECK(ctl({"get", "/r/", "--prefix", "--sort-by", "VALUE", "--print-value-only"}).out == "1\n2\n3\n");
  CHECK(ctl({"get", "/r/", "--prefix", "--order", "DESCEND", "--print-value-only"}).out == "2\n1\n3\n");
  CHECK(ctl({"get", "/r/a", "--hex"}).out == "\\x2f\\x72\\x2f\\x61\n\\x33\n");
  // Bad input: a clear usage error, nothing sent.
  const int64_t before = require_ok(c->status(), "status").header.revision;
  auto bad_sort = ctl({"get", "/r/", "--prefix", "--sort-by", "SIZE"});
  CHECK(bad_sort.exit_code == 2);
  CHECK(bad_sort.out.find("--sort-by takes KEY") != std::string::npos);
  CHECK(ctl({"get", "/r/a", "/r/c", "--prefix"}).exit_code == 2);
  CHECK(require_ok(c->status(), "status").header.revision == before);

  // etcdctl's lease names, keep-alive --once.
  auto grant = ctl({"lease", "grant", "60"});
  REQUIRE(grant.out.rfind("lease ", 0) == 0);
  const std::string lease_hex = grant.out.substr(6, grant.out.find(' ', 6) - 6);
  auto once = ctl({"lease", "keep-alive", lease_hex, "--once"});
  CHECK(once.exit_code == 0);
  CHECK(once.out.find(lease_hex) != std::string::npos);
  CHECK(count_lines(once.out) == 1);
  auto ttl = ctl({"lease", "timetolive", lease_hex});
  CHECK(ttl.exit_code == 0);
  CHECK(ttl.out.find("granted with TTL(60s)") != std::string::npos);

  // An unknown command is named, with the nearest one.
  auto typo = ctl({"gte", "/r/a"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.out.find("unknown command \"gte\" for \"corralctl\"") != std::string::npos);
  CHECK(typo.out.find("\tget\n") != std::string::npos);
  auto sub_typo = ctl({"lease", "keepalve", lease_hex});
  CHECK(sub_typo.exit_code == 2);
  CHECK(sub_typo.out.find("unknown command \"keepalve\" for \"corralctl lease\"") != std::string::npos);
  // Member ids in hex in errors as in tables.
  auto no_member = ctl({"member", "remove", "abc"});
  CHECK(no_member.exit_code == 1);
  CHECK(no_member.out.find("member abc not found") != std::string::npos);
  auto status = ctl({"-w", "table", "endpoint", "status"});
  CHECK(status.exit_code == 0);
  // DB SIZE, human-readable.
  CHECK((status.out.find(" kB ") != std::string::npos || status.out.find(" MB ") != std::string::npos));

  auto version = ctl({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("corralctl version: ", 0) == 0);
}
