// CURVE and ZAP on real corrald processes: members started with
// --curve-key-file and both allow files serve only listed client keys, name
// the user of each connection, keep an unlisted member key off the peer
// links, and refuse contradictory flags and bad key files at start.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "client/curve_options.h"
#include "coordinator/net/curve_key_file.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;
namespace net = corral::net;

namespace {

constexpr int kExitBadFlags = 2;
constexpr std::chrono::milliseconds kRunTimeoutMs{15'000};
// Long enough for many election timeouts of the test timing (10 ms ticks x 10).
constexpr std::chrono::milliseconds kIsolationWindowMs{2'000};

// Key pairs for members n1..n3, a stranger member, and the clients alice
// (listed) and mallory (not listed), with the allow files naming them.
struct Keys {
  std::string dir;
  std::map<std::string, net::CurveKeyPair> pair;

  Keys() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "corral-curve-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    for (const char* name : {"n1", "n2", "n3", "stranger", "alice", "mallory"}) {
      auto keys = net::generate_curve_keypair();
      REQUIRE(keys.ok());
      REQUIRE(net::write_curve_key_files(dir + "/" + name, *keys).ok());
      pair[name] = *keys;
    }
    write("clients.allow", "# client keys\n" + pair["alice"].public_key + " alice\n");
    write("peers.allow", pair["n1"].public_key + " n1\n" + pair["n2"].public_key + " n2  # second\n" +
                             pair["n3"].public_key + " n3\n");
  }
  ~Keys() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  std::vector<std::string> member_flags(const std::string& key_name) const {
    return {"--curve-key-file", path(key_name + ".key"), "--client-curve-allow-file", path("clients.allow"),
            "--peer-curve-allow-file", path("peers.allow")};
  }
};

// A 3-member CURVE cluster; `key_of` says which key pair a member starts with.
struct CurveCluster {
  const Keys& keys;
  std::map<std::string, std::string> key_of{{"n1", "n1"}, {"n2", "n2"}, {"n3", "n3"}};
  Cluster cluster;

  explicit CurveCluster(const Keys& k)
      : keys(k),
        cluster(ClusterOptions{
            .members = 3,
            .extra_args = {"--log-level", "debug"},
            .member_args = [this](const std::string& name) { return keys.member_flags(key_of.at(name)); },
            .client_options = [this](corral::client::Options& o) { as_client(o, "alice"); }}) {}

  // Client options with `user`'s key pair and each member's listed key.
  void as_client(corral::client::Options& o, const std::string& user) const {
    o.curve_public_key = keys.pair.at(user).public_key;
    o.curve_secret_key = keys.pair.at(user).secret_key;
    o.curve_server_keys.clear();
    // Called from Cluster's constructor too (its status client): its
    // endpoints are known by then.
    const std::vector<std::string> all = cluster.endpoints();
    for (const std::string& e : o.endpoints) {
      for (size_t i = 0; i < all.size(); ++i) {
        if (e == all[i]) o.curve_server_keys.push_back(keys.pair.at(key_of.at("n" + std::to_string(i + 1))).public_key);
      }
    }
  }
  std::unique_ptr<corral::client::Client> client_with(std::function<void(corral::client::Options&)> adjust,
                                                      std::chrono::milliseconds timeout = 1500ms) {
    corral::client::Options o;
    o.endpoints = cluster.endpoints();
    o.request_timeout = timeout;
    o.connect_timeout = 300ms;
    o.read_attempt_timeout = 500ms;
    adjust(o);
    auto c = corral::client::Client::connect(o);
    REQUIRE(c.ok());
    return std::move(c).value();
  }
};

bool log_has(const Cluster& c, const std::string& text) {
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.log_of(i).find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("curve: a listed client is served and its user name reaches the member", "[integration][curve]") {
  Keys keys;
  CurveCluster cc(keys);
  cc.cluster.start();
  REQUIRE(cc.cluster.wait_for_leader());
  auto alice = cc.client_with([&](corral::client::Options& o) { cc.as_client(o, "alice"); });
  require_ok(alice->put("/curve/k", "v"), "put as alice");
  auto got = require_ok(alice->get("/curve/k"), "get as alice");
  REQUIRE(got.kvs.size() == 1);
  CHECK(got.kvs[0].value == "v");
  // The ZAP handler named the connection; the member logs the user per request at debug.
  CHECK(wait_until([&] { return log_has(cc.cluster, "from user 'alice'"); }, 5000ms));
  CHECK(log_has(cc.cluster, "ZAP: corral-peer key"));  // peer links went through ZAP too

  SECTION("corralctl with the CURVE flags") {
    std::string server_keys;
    for (const char* n : {"n1", "n2", "n3"}) server_keys += (server_keys.empty() ? "" : ",") + keys.path(std::string(n) + ".pub");
    RunResult r = run_program(corralctl_path(),
                              {"--endpoints", cc.cluster.endpoints_text(), "--curve-key-file", keys.path("alice.key"),
                               "--curve-server-key", server_keys, "get", "/curve/k", "--print-value-only"},
                              keys.path("ctl.out"), kRunTimeoutMs);
    INFO(r.out);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("v") != std::string::npos);
    // The wrong server key for a member: no answer from it.
    RunResult wrong = run_program(corralctl_path(),
                                  {"--endpoints", cc.cluster.member(0).client_url(), "--curve-key-file",
                                   keys.path("alice.key"), "--curve-server-key", keys.path("n2.pub"),
                                   "--command-timeout", "1s", "get", "/curve/k"},
                                  keys.path("ctl.out"), kRunTimeoutMs);
    INFO(wrong.out);
    CHECK(wrong.exit_code != 0);
  }
}

TEST_CASE("curve: an unlisted client key and a plain client get no answer, the members stay healthy",
          "[integration][curve]") {
  Keys keys;
  CurveCluster cc(keys);
  cc.cluster.start();
  REQUIRE(cc.cluster.wait_for_leader());

  auto mallory = cc.client_with([&](corral::client::Options& o) { cc.as_client(o, "mallory"); });
  auto refused = mallory->put("/curve/mallory", "x");
  REQUIRE_FALSE(refused.ok());
  INFO(corral::client::to_string(refused.error()));
  CHECK(wait_until([&] { return log_has(cc.cluster, "is not in the client allow-list"); }, 5000ms));

  auto plain = cc.client_with([](corral::client::Options&) {});
  CHECK_FALSE(plain->put("/curve/plain", "x").ok());

  // Still serving, and nothing of theirs was written.
  auto alice = cc.client_with([&](corral::client::Options& o) { cc.as_client(o, "alice"); }, 5000ms);
  require_ok(alice->put("/curve/after", "ok"), "put after the refusals");
  CHECK(require_ok(alice->get("/curve/mallory"), "get").kvs.empty());
  CHECK(require_ok(alice->get("/curve/plain"), "get").kvs.empty());
  for (size_t i = 0; i < cc.cluster.size(); ++i) CHECK(cc.cluster.status(i).has_value());
}

TEST_CASE("curve: a member restarted with an unlisted key cannot rejoin or lead, the cluster goes on",
          "[integration][curve]") {
  Keys keys;
  CurveCluster cc(keys);
  cc.cluster.start();
  auto leader = cc.cluster.wait_for_leader();
  REQUIRE(leader);
  // Stop a follower and bring it back with its old data dir but a key the
  // peer allow-list does not have.
  const size_t victim = (*leader + 1) % cc.cluster.size();
  const std::string victim_name = cc.cluster.member(victim).name;
  const uint64_t victim_id = cc.cluster.member_id(victim);
  cc.cluster.signal_member(victim, SIGKILL);
  cc.key_of[victim_name] = "stranger";
  cc.cluster.start_member(victim);

  CHECK(wait_until([&] { return log_has(cc.cluster, "is not in the peer allow-list"); }, 5000ms));
  auto alice = cc.client_with([&](corral::client::Options& o) { cc.as_client(o, "alice"); }, 5000ms);
  const auto window_end = std::chrono::steady_clock::now() + kIsolationWindowMs;
  int writes = 0;
  while (std::chrono::steady_clock::now() < window_end && writes < 10'000) {
    require_ok(alice->put("/curve/w", std::to_string(writes)), "put while the stranger campaigns");
    ++writes;
  }
  CHECK(writes > 0);
  // The others still agree on a leader that is not the stranger, and it
  // did not get the writes made meanwhile.
  for (size_t i = 0; i < cc.cluster.size(); ++i) {
    if (i == victim) continue;
    auto st = cc.cluster.status(i);
    REQUIRE(st.has_value());
    CHECK(st->leader != 0);
    CHECK(st->leader != victim_id);
  }
  corral::client::Options o;
  o.endpoints = {cc.cluster.member(victim).client_url()};
  o.curve_public_key = keys.pair.at("alice").public_key;
  o.curve_secret_key = keys.pair.at("alice").secret_key;
  o.curve_server_keys = {keys.pair.at("stranger").public_key};
  auto direct = corral::client::Client::connect(o);
  REQUIRE(direct.ok());
  auto st = (*direct)->status_of(cc.cluster.member(victim).client_url());
  REQUIRE(st.ok());
  CHECK(st->leader != victim_id);
  auto leader_status = cc.cluster.status(*leader == victim ? (victim + 1) % 3 : *leader);
  REQUIRE(leader_status.has_value());
  CHECK(st->raft_applied_index < leader_status->raft_applied_index);
}

TEST_CASE("curve: contradictory flags and bad key files are refused at start", "[integration][curve]") {
  Keys keys;
  Cluster scratch(ClusterOptions{.members = 1});
  MemberSlot& s = scratch.member(0);
  int runs = 0;
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--name", s.name, "--data-dir", s.data_dir, "--listen-peer", s.peer_url(),
                                     "--listen-client", s.client_url()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run_program(corrald_path(), args, keys.path("run-" + std::to_string(runs++)), kRunTimeoutMs);
    UNSCOPED_INFO("corrald exit " << r.exit_code << ":\n" << r.out);
    return r;
  };
  const std::string key = keys.path("n1.key");
  const std::string clients = keys.path("clients.allow");
  const std::string peers = keys.path("peers.allow");
  auto refused = [&](std::vector<std::string> extra, const std::string& named) {
    RunResult r = run(std::move(extra));
    CHECK(r.exit_code == kExitBadFlags);
    CHECK(r.out.find(named) != std::string::npos);
  };
  refused({"--curve-key-file", key}, "--client-curve-allow-file");
  refused({"--curve-key-file", key, "--client-curve-allow-file", clients}, "--peer-curve-allow-file");
  refused({"--client-curve-allow-file", clients, "--peer-curve-allow-file", peers}, "--curve-key-file");

  const std::string garbled = keys.write("garbled.key", "# x\npublic-key = short\n");
  ::chmod(garbled.c_str(), 0600);
  refused({"--curve-key-file", garbled, "--client-curve-allow-file", clients, "--peer-curve-allow-file", peers},
          garbled + ":2");
  const std::string open_key = keys.write("open.key", net::format_curve_key_pair(keys.pair.at("n1")));
  ::chmod(open_key.c_str(), 0644);
  refused({"--curve-key-file", open_key, "--client-curve-allow-file", clients, "--peer-curve-allow-file", peers},
          "chmod 600");
  const std::string bad_allow = keys.write("bad.allow", keys.pair.at("alice").public_key + " alice\nnot-a-key bob\n");
  refused({"--curve-key-file", key, "--client-curve-allow-file", bad_allow, "--peer-curve-allow-file", peers},
          bad_allow + ":2");
  refused({"--curve-key-file", key, "--client-curve-allow-file", clients, "--peer-curve-allow-file",
           keys.path("missing.allow")},
          "missing.allow");
  CHECK_FALSE(std::filesystem::exists(s.data_dir));
}

TEST_CASE("curve: a member started with another member's id but its own listed key is refused",
          "[integration][curve]") {
  Keys keys;
  CurveCluster cc(keys);
  cc.cluster.start();
  auto leader = cc.cluster.wait_for_leader();
  REQUIRE(leader);
  // Member B (a follower) comes back with B's name, so B's member id, but
  // A's key pair: A's key is listed, so ZAP lets it in as "A". Its frames
  // must not count as B's.
  const size_t b = (*leader + 1) % cc.cluster.size();
  const size_t a = (b + 1) % cc.cluster.size();
  const std::string b_name = cc.cluster.member(b).name;
  const std::string a_name = cc.cluster.member(a).name;
  const uint64_t b_id = cc.cluster.member_id(b);
  cc.cluster.signal_member(b, SIGKILL);
  cc.key_of[b_name] = a_name;
  cc.cluster.start_member(b);

  const std::string refusal = "refused peer messages: its key is member '" + a_name + "'";
  CHECK(wait_until([&] { return log_has(cc.cluster, refusal); }, 5000ms));
  auto alice = cc.client_with([&](corral::client::Options& o) { cc.as_client(o, "alice"); }, 5000ms);
  const auto window_end = std::chrono::steady_clock::now() + kIsolationWindowMs;
  int writes = 0;
  while (std::chrono::steady_clock::now() < window_end && writes < 10'000) {
    require_ok(alice->put("/curve/impostor", std::to_string(writes)), "put while the impostor runs");
    ++writes;
  }
  CHECK(writes > 0);
  // The real members agree on a leader that is not B; the impostor's
  // frames were dropped, each refusal logged at most every 5 s per sender.
  for (size_t i = 0; i < cc.cluster.size(); ++i) {
    if (i == b) continue;
    auto st = cc.cluster.status(i);
    REQUIRE(st.has_value());
    CHECK(st->leader != 0);
    CHECK(st->leader != b_id);
    const std::string log = cc.cluster.log_of(i);
    size_t lines = 0;
    for (size_t at = log.find(refusal); at != std::string::npos; at = log.find(refusal, at + 1)) ++lines;
    CHECK(lines <= 3);
  }
}
