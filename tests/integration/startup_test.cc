// corrald refuses a start that cannot be right: a --config file with a typo
// or a garbage line, nonsense timing flags, an --initial-cluster that
// contradicts itself or the member's own flags, a data dir of another
// member, joining a cluster that does not know the member. Each stops at
// once with a message naming what is wrong, a non-zero exit code, and
// nothing written to an empty data dir.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/harness/cluster.h"

using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kRefusalTimeoutMs{15'000};
constexpr int kExitBadFlags = 2;

// Ports and a temporary root from a cluster that is never started.
struct Scratch {
  Cluster cluster{ClusterOptions{.members = 1}};
  int runs = 0;
  MemberSlot& slot() { return cluster.member(0); }
  std::string path(const std::string& name) const { return cluster.root() + "/" + name; }
  // The flags of a single member n1 that starts fine; `changes` (flag,
  // value pairs) replace or add to them.
  std::vector<std::string> args(const std::vector<std::string>& changes) {
    std::map<std::string, std::string> flags = {
        {"--name", slot().name}, {"--data-dir", slot().data_dir}, {"--listen-peer", slot().peer_url()},
        {"--listen-client", slot().client_url()}, {"--tick-ms", "10"}, {"--election-ticks", "10"}};
    for (size_t i = 0; i + 1 < changes.size(); i += 2) flags[changes[i]] = changes[i + 1];
    std::vector<std::string> a;
    for (const auto& [flag, value] : flags) a.insert(a.end(), {flag, value});
    return a;
  }
  RunResult run(std::vector<std::string> args) {
    RunResult r = run_program(corrald_path(), args, path("run-" + std::to_string(runs++) + ".out"), kRefusalTimeoutMs);
    UNSCOPED_INFO("corrald exit " << r.exit_code << ":\n" << r.out);
    return r;
  }
  RunResult run_program_env(const std::vector<std::string>& env, const std::vector<std::string>& args) {
    std::vector<std::string> a = {"-c", "exec env \"$@\"", "sh"};
    a.insert(a.end(), env.begin(), env.end());
    a.push_back(corrald_path());
    a.insert(a.end(), args.begin(), args.end());
    RunResult r = run_program("/bin/sh", a, path("run-" + std::to_string(runs++) + ".out"), kRefusalTimeoutMs);
    UNSCOPED_INFO("corrald exit " << r.exit_code << ":\n" << r.out);
    return r;
  }
  std::string write_config(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  bool data_dir_untouched() { return !std::filesystem::exists(slot().data_dir); }
};

bool says(const RunResult& r, const std::string& text) { return r.out.find(text) != std::string::npos; }

// Starts corrald with `args`, waits for its ready line, stops it.
bool starts(Scratch& s, const std::vector<std::string>& args) {
  const std::string log = s.path("start-" + std::to_string(s.runs++) + ".log");
  Process p = Process::spawn(corrald_path(), args, log);
  bool ready = wait_until([&] { return read_file(log).find("corrald: ready") != std::string::npos || p.poll(); },
                          kReadyTimeoutMs);
  ready = ready && !p.poll();
  UNSCOPED_INFO("corrald log:\n" << read_file(log));
  p.kill_and_wait();
  return ready;
}

}  // namespace

TEST_CASE("a --config file with an unknown key is refused, naming it", "[integration][startup]") {
  Scratch s;
  auto conf = s.write_config("typo.conf", "name = n1\ninital-cluster = n1=" + s.slot().peer_url() + "\n");
  auto r = s.run(s.args({"--config", conf}));
  CHECK(r.exit_code == kExitBadFlags);
  CHECK(says(r, "line 2"));
  CHECK(says(r, "inital-cluster"));
  CHECK(s.data_dir_untouched());
}

TEST_CASE("a --config file with a garbage line is refused, naming the line", "[integration][startup]") {
  Scratch s;
  // CLI11's own reader skipped lines under 3 characters and took a bare
  // word as "key = true".
  for (const std::string& garbage : {std::string("xy"), std::string("name"), std::string("this is not a setting"),
                                     std::string("[cluster]"), std::string("tick-ms = 10 20")}) {
    auto conf = s.write_config("garbage.conf", "# a comment\n" + garbage + "\n");
    auto r = s.run(s.args({"--config", conf}));
    CHECK(r.exit_code == kExitBadFlags);
    CHECK(says(r, "line 2"));
    CHECK(s.data_dir_untouched());
  }
}

TEST_CASE("a --config file sets every flag, initial-cluster with commas too", "[integration][startup]") {
  Scratch s;
  const int other_port = next_free_port();
  auto conf = s.write_config("good.conf", "[default]\n# two members, one never started\nname = \"n1\"\n"
                                          "initial-cluster = n1=" + s.slot().peer_url() +
                                              ",n2=tcp://127.0.0.1:" + std::to_string(other_port) +
                                              "\ntick-ms = 10  # 100 ms elections\nelection-ticks = 10\n");
  CHECK(starts(s, {"--config", conf, "--data-dir", s.slot().data_dir, "--listen-peer", s.slot().peer_url(),
                   "--listen-client", s.slot().client_url()}));
}

TEST_CASE("nonsense timing flags are refused, naming the flag", "[integration][startup]") {
  Scratch s;
  struct Case {
    std::vector<std::string> flags;
    std::string named;
  };
  const std::vector<Case> cases = {
      {{"--tick-ms", "1", "--election-ticks", "2"}, "--election-ticks"},        // 2 ms, one heartbeat
      {{"--tick-ms", "1", "--election-ticks", "20"}, "election timeout"},       // 20 ms
      {{"--tick-ms", "10", "--election-ticks", "10", "--heartbeat-ticks", "3"}, "--heartbeat-ticks"},
      {{"--tick-ms", "1000", "--election-ticks", "100"}, "election timeout"},   // 100 s
      {{"--request-timeout-ms", "150"}, "--request-timeout-ms"},                // under 2 x 100 ms
      {{"--snapshot-catchup-entries", "0"}, "--snapshot-catchup-entries"},
  };
  for (const auto& c : cases) {
    auto r = s.run(s.args(c.flags));
    CHECK(r.exit_code == kExitBadFlags);
    CHECK(says(r, c.named));
    CHECK(s.data_dir_untouched());
  }
  // The rules' edges are accepted.
  CHECK(starts(s, s.args({"--tick-ms", "10", "--election-ticks", "5", "--request-timeout-ms", "100"})));
}

TEST_CASE("two members with one peer URL in --initial-cluster are refused", "[integration][startup]") {
  Scratch s;
  auto r = s.run(s.args({"--initial-cluster", "n1=" + s.slot().peer_url() + ",n2=" + s.slot().peer_url()}));
  CHECK(r.exit_code == kExitBadFlags);
  CHECK(says(r, "same peer URL"));
  CHECK(s.data_dir_untouched());
}

TEST_CASE("a member whose own --initial-cluster URL is not its peer URL is refused", "[integration][startup]") {
  Scratch s;
  const std::string elsewhere = "tcp://127.0.0.1:" + std::to_string(next_free_port());
  auto r = s.run(s.args({"--initial-cluster", "n1=" + elsewhere}));
  CHECK(r.exit_code == kExitBadFlags);
  CHECK(says(r, elsewhere));
  CHECK(s.data_dir_untouched());
  auto adv = s.run(s.args({"--initial-cluster", "n1=" + s.slot().peer_url(), "--advertise-peer", elsewhere}));
  CHECK(adv.exit_code == kExitBadFlags);
  CHECK(says(adv, "--advertise-peer"));
  CHECK(s.data_dir_untouched());
}

TEST_CASE("a data dir started under another --name is refused", "[integration][startup]") {
  Scratch s;
  REQUIRE(starts(s, s.args({})));
  REQUIRE(std::filesystem::exists(s.slot().data_dir));
  auto r = s.run(s.args({"--name", "other", "--initial-cluster", "other=" + s.slot().peer_url()}));
  CHECK(r.exit_code == kExitBadFlags);
  CHECK(says(r, "belongs to member 'n1'"));
  // Its own name still starts it.
  CHECK(starts(s, s.args({})));
}

TEST_CASE("joining with --initial-cluster-state existing is refused when no member knows the joiner", "[integration][startup]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  Scratch s;
  // n4 was never added: a running cluster does not know it.
  auto r = s.run(s.args({"--name", "n4", "--initial-cluster",
                         cluster.initial_cluster() + ",n4=" + s.slot().peer_url(), "--initial-cluster-state",
                         "existing"}));
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != -1);
  CHECK(says(r, "member add"));
  CHECK(s.data_dir_untouched());
  // Nor does a cluster of one (nobody to ask).
  auto alone = s.run(s.args({"--initial-cluster-state", "existing"}));
  CHECK(alone.exit_code == kExitBadFlags);
  CHECK(says(alone, "no other member"));
  CHECK(s.data_dir_untouched());
}

TEST_CASE("two members started in one directory without --data-dir each get <name>.corral", "[integration][startup]") {
  Scratch s;
  const std::string dir = s.path("shared-cwd");
  std::filesystem::create_directories(dir);
  // Both run at once: with one default data dir the second would fail on
  // RocksDB's lock.
  std::vector<Process> members;
  std::vector<std::string> logs;
  for (const std::string name : {"alpha", "beta"}) {
    const std::string peer = "tcp://127.0.0.1:" + std::to_string(next_free_port());
    const std::string client = "tcp://127.0.0.1:" + std::to_string(next_free_port());
    logs.push_back(s.path(name + ".log"));
    members.push_back(Process::spawn("/bin/sh", {"-c", "cd \"$0\" && exec \"$1\" --name " + name +
                                                           " --listen-peer " + peer + " --listen-client " + client +
                                                           " --tick-ms 10 --election-ticks 10",
                                                 dir, corrald_path()},
                                     logs.back()));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const bool ready = wait_until(
        [&] { return read_file(logs[i]).find("corrald: ready") != std::string::npos || members[i].poll(); },
        kReadyTimeoutMs);
    UNSCOPED_INFO("corrald log:\n" << read_file(logs[i]));
    CHECK(ready);
    CHECK(!members[i].poll());
  }
  CHECK(std::filesystem::exists(dir + "/alpha.corral"));
  CHECK(std::filesystem::exists(dir + "/beta.corral"));
  // The start line names the data dir, the id and the URLs (the log is
  // written by a background flush: wait for it).
  CHECK(wait_until([&] { return read_file(logs[0]).find("data-dir=alpha.corral") != std::string::npos; }, 5000ms));
  CHECK(read_file(logs[0]).find("listen-peer=tcp://127.0.0.1:") != std::string::npos);
  for (auto& p : members) p.kill_and_wait();
}

namespace {

// corrald with `env` (NAME=value words) in its environment.
std::vector<std::string> with_env(const std::vector<std::string>& env, const std::vector<std::string>& args) {
  std::vector<std::string> out = {"-c", "exec env \"$@\"", "sh"};
  out.insert(out.end(), env.begin(), env.end());
  out.push_back(corrald_path());
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

bool starts_with_env(Scratch& s, const std::vector<std::string>& env, const std::vector<std::string>& args,
                     const std::string& ready_text) {
  const std::string log = s.path("start-" + std::to_string(s.runs++) + ".log");
  Process p = Process::spawn("/bin/sh", with_env(env, args), log);
  bool ready = wait_until([&] { return read_file(log).find("corrald: ready") != std::string::npos || p.poll(); },
                          kReadyTimeoutMs);
  ready = ready && !p.poll() && read_file(log).find(ready_text) != std::string::npos;
  UNSCOPED_INFO("corrald log:\n" << read_file(log));
  p.kill_and_wait();
  return ready;
}

}  // namespace

TEST_CASE("CORRAL_* variables set flags, a flag wins, an unknown one is refused by name", "[integration][startup]") {
  Scratch s;
  const std::string peer = s.slot().peer_url(), client = s.slot().client_url();
  CHECK(starts_with_env(s, {"CORRAL_NAME=fromenv", "CORRAL_DATA_DIR=" + s.slot().data_dir, "CORRAL_LISTEN_PEER=" + peer,
                            "CORRAL_LISTEN_CLIENT=" + client, "CORRAL_TICK_MS=10"},
                        {}, "ready name=fromenv "));
  std::filesystem::remove_all(s.slot().data_dir);
  CHECK(starts_with_env(s, {"CORRAL_NAME=fromenv"}, s.args({}), "ready name=n1 "));
  std::filesystem::remove_all(s.slot().data_dir);
  auto r = s.run_program_env({"CORRAL_INITAL_CLUSTER=n1=" + peer}, s.args({}));
  CHECK(r.exit_code == kExitBadFlags);
  CHECK(says(r, "CORRAL_INITAL_CLUSTER"));
  CHECK(s.data_dir_untouched());
}

TEST_CASE("timing flags in ms as etcd's, both forms at once are refused", "[integration][startup]") {
  Scratch s;
  auto ms = [&](std::vector<std::string> flags) {
    auto a = s.args({});
    std::vector<std::string> out;
    for (size_t i = 0; i + 1 < a.size(); i += 2) {
      if (a[i] == "--tick-ms" || a[i] == "--election-ticks") continue;
      out.insert(out.end(), {a[i], a[i + 1]});
    }
    out.insert(out.end(), flags.begin(), flags.end());
    return out;
  };
  auto both = s.run(s.args({"--heartbeat-interval", "10"}));
  CHECK(both.exit_code == kExitBadFlags);
  CHECK(says(both, "not both"));
  auto uneven = s.run(ms({"--heartbeat-interval", "10", "--election-timeout", "105"}));
  CHECK(uneven.exit_code == kExitBadFlags);
  CHECK(says(uneven, "--election-timeout"));
  auto few = s.run(ms({"--heartbeat-interval", "20", "--election-timeout", "60"}));
  CHECK(few.exit_code == kExitBadFlags);
  CHECK(says(few, "at least"));
  auto fast = s.run(ms({"--heartbeat-interval", "5", "--election-timeout", "25"}));  // under 50 ms
  CHECK(fast.exit_code == kExitBadFlags);
  CHECK(says(fast, "election timeout"));
  CHECK(s.data_dir_untouched());
  CHECK(starts(s, ms({"--heartbeat-interval", "10", "--election-timeout", "100"})));
}

TEST_CASE("corrald --version", "[integration][startup]") {
  Scratch s;
  auto r = s.run({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(says(r, "corrald corral "));
}
