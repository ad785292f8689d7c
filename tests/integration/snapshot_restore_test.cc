// Disaster recovery with real processes, as etcdutl's snapshot restore:
// a 3-member cluster with keys and a lease is saved with `corralctl
// snapshot save`, every member is killed and its data dir deleted, three new
// data dirs are made with `corralctl snapshot restore` and started as a new
// cluster. Every key comes back at its revisions, the lease with its keys,
// a write continues the revision sequence, the cluster id and member ids
// are new, and a copy of an old member's data dir started next to the new
// cluster is refused by it. Broken snapshot files are refused.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr int kKeys = 40;
constexpr std::chrono::milliseconds kCommandTimeoutMs{20'000};
constexpr std::chrono::milliseconds kOldMemberRefusedMs{15'000};

struct KeyAt {
  std::string value;
  int64_t create_revision = 0, mod_revision = 0, version = 0, lease = 0;
  bool operator==(const KeyAt&) const = default;
};

std::map<std::string, KeyAt> keys_under(client::Client& c, const std::string& prefix) {
  auto r = require_ok(c.get_prefix(prefix), "get " + prefix);
  std::map<std::string, KeyAt> out;
  for (const auto& kv : r.kvs) out[kv.key] = KeyAt{kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease};
  return out;
}

RunResult ctl(const Cluster& cluster, const std::vector<std::string>& args, const std::string& scratch) {
  return run_program(corralctl_path(), args, cluster.root() + "/" + scratch, kCommandTimeoutMs);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace

TEST_CASE("snapshot restore brings a whole cluster back as a new cluster", "[integration][snapshot][restore]") {
  Cluster old_cluster(ClusterOptions{});
  old_cluster.start();
  auto c = old_cluster.client();
  for (int i = 0; i < kKeys; ++i) {
    require_ok(c->put("/dr/k" + std::to_string(i), "v" + std::to_string(i)), "put");
  }
  require_ok(c->put("/dr/k0", "overwritten"), "overwrite");
  require_ok(c->del("/dr/k1"), "delete");
  auto lease = require_ok(c->lease_grant(600), "lease grant");
  require_ok(c->put("/dr/leased", "with-lease", lease.id), "leased put");
  const auto want = keys_under(*c, "/dr/");
  const int64_t revision = require_ok(c->get("/dr/leased"), "get").header.revision;
  const uint64_t old_cluster_id = require_ok(c->status(), "status").header.cluster_id;
  std::set<uint64_t> old_ids;
  for (const auto& m : require_ok(c->member_list(), "member list").members) old_ids.insert(m.id);

  const std::string snap = old_cluster.root() + "/backup.snap";
  RunResult saved = ctl(old_cluster, {"--endpoints", old_cluster.endpoints_text(), "snapshot", "save", snap}, "save.out");
  INFO("snapshot save -> " << saved.exit_code << ": " << saved.out);
  REQUIRE(saved.exit_code == 0);
  RunResult status = ctl(old_cluster, {"-w", "json", "snapshot", "status", snap}, "status.out");
  INFO("snapshot status -> " << status.exit_code << ": " << status.out);
  REQUIRE(status.exit_code == 0);
  CHECK(status.out.find("\"revision\":" + std::to_string(revision) + ",") != std::string::npos);
  CHECK(status.out.find("\"liveKeys\":" + std::to_string(want.size()) + ",") != std::string::npos);
  CHECK(status.out.find("\"leases\":1,") != std::string::npos);

  // The disaster: every member gone. A copy of n3's data dir is kept to play
  // an old member that comes back later.
  c.reset();
  for (size_t i = 0; i < old_cluster.size(); ++i) old_cluster.signal_member(i, SIGKILL);
  const std::string old_n3_dir = old_cluster.root() + "/old-n3";
  std::filesystem::copy(old_cluster.member(2).data_dir, old_n3_dir, std::filesystem::copy_options::recursive);
  for (size_t i = 0; i < old_cluster.size(); ++i) old_cluster.wipe_member(i);

  // The new cluster: n1 and n2 on the same hosts (peer URLs) as before, n3 on a new one.
  Cluster fresh(ClusterOptions{});
  fresh.member(0).peer_port = old_cluster.member(0).peer_port;
  fresh.member(1).peer_port = old_cluster.member(1).peer_port;
  for (size_t i = 0; i < fresh.size(); ++i) {
    const MemberSlot& m = fresh.member(i);
    RunResult r = ctl(fresh,
                      {"snapshot", "restore", snap, "--name", m.name, "--initial-cluster", fresh.initial_cluster(),
                       "--initial-advertise-peer-urls", m.peer_url(), "--data-dir", m.data_dir,
                       "--initial-cluster-token", "dr-test"},
                      "restore.out");
    INFO("restore " << m.name << " -> " << r.exit_code << ": " << r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Restored snapshot") != std::string::npos);
  }
  // A data dir that is not empty is refused, and left as it was.
  RunResult again = ctl(fresh,
                        {"snapshot", "restore", snap, "--name", "n1", "--initial-cluster", fresh.initial_cluster(),
                         "--data-dir", fresh.member(0).data_dir},
                        "again.out");
  INFO("restore into a used data dir -> " << again.exit_code << ": " << again.out);
  CHECK(again.exit_code == 2);
  CHECK(again.out.find("not empty") != std::string::npos);

  for (size_t i = 0; i < fresh.size(); ++i) fresh.start_member(i);
  REQUIRE(fresh.wait_for_leader());
  auto nc = fresh.client();
  CHECK(keys_under(*nc, "/dr/") == want);
  auto now = require_ok(nc->status(), "status");
  CHECK(now.header.cluster_id != old_cluster_id);
  CHECK(now.header.cluster_id != 0);
  auto ttl = require_ok(nc->lease_ttl(lease.id, true), "lease ttl");
  CHECK(ttl.ttl_seconds > 0);
  CHECK(ttl.keys == std::vector<std::string>{"/dr/leased"});
  auto members = require_ok(nc->member_list(), "member list").members;
  CHECK(members.size() == 3);
  for (const auto& m : members) CHECK(old_ids.count(m.id) == 0);
  // A write continues the old revision sequence.
  auto put = require_ok(nc->put("/dr/after", "x"), "put after restore");
  CHECK(put.header.revision == revision + 1);

  // The old n3, from its old data dir, on its old peer URL: its stored
  // member table points at n1 and n2's hosts, which now run the new
  // cluster. They refuse its messages (cluster id mismatch): it never finds
  // a leader, and the new cluster does not change.
  const int old_client_port = next_free_port();
  std::vector<std::string> args = {"--name", "n3", "--data-dir", old_n3_dir,
                                   "--listen-peer", old_cluster.member(2).peer_url(),
                                   "--listen-client", "127.0.0.1:" + std::to_string(old_client_port),
                                   "--initial-cluster", old_cluster.initial_cluster(),
                                   "--tick-ms", "10", "--election-ticks", "10", "--heartbeat-ticks", "1"};
  const std::string old_log = old_cluster.root() + "/old-n3.log";
  Process old_n3 = Process::spawn(corrald_path(), args, old_log);
  const bool refused = wait_until(
      [&] {
        for (size_t i = 0; i < 2; ++i) {
          if (read_file(fresh.member(i).log_path).find("cluster id mismatch") != std::string::npos) return true;
        }
        return false;
      },
      kOldMemberRefusedMs);
  INFO("old n3's log:\n" << read_file(old_log));
  CHECK(refused);
  if (!old_n3.poll()) {
    auto oc = client::Client::connect(client::Options{{"127.0.0.1:" + std::to_string(old_client_port)}});
    REQUIRE(oc.ok());
    client::CallOptions co;
    co.timeout = 1000ms;
    auto st = (*oc)->status_of("127.0.0.1:" + std::to_string(old_client_port), co);
    if (st.ok()) {
      CHECK(st->leader == 0);
      CHECK(st->header.cluster_id == old_cluster_id);
    }
  }
  members = require_ok(nc->member_list(), "member list after the old member tried").members;
  CHECK(members.size() == 3);
  for (const auto& m : members) CHECK(old_ids.count(m.id) == 0);
  require_ok(nc->put("/dr/still", "works"), "put after the old member tried");
}

TEST_CASE("snapshot status and restore refuse a damaged snapshot file", "[integration][snapshot][restore]") {
  Cluster cluster(ClusterOptions{1});
  cluster.start();
  auto c = cluster.client();
  for (int i = 0; i < 10; ++i) require_ok(c->put("/bad/k" + std::to_string(i), std::string(100, 'v')), "put");
  const std::string snap = cluster.root() + "/good.snap";
  RunResult saved = ctl(cluster, {"--endpoints", cluster.endpoints_text(), "snapshot", "save", snap}, "save.out");
  REQUIRE(saved.exit_code == 0);
  const std::string good = read_file(snap);
  REQUIRE(good.size() > 200);

  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x20);
  write_bytes(cluster.root() + "/flipped.snap", flipped);
  write_bytes(cluster.root() + "/truncated.snap", good.substr(0, good.size() - 100));
  write_bytes(cluster.root() + "/empty.snap", "");
  write_bytes(cluster.root() + "/other.snap", "not a snapshot at all, just some text that is long enough........");

  for (const std::string name : {"flipped", "truncated", "empty", "other"}) {
    const std::string path = cluster.root() + "/" + name + ".snap";
    RunResult st = ctl(cluster, {"snapshot", "status", path}, "st.out");
    INFO(name << ": status -> " << st.exit_code << ": " << st.out);
    CHECK(st.exit_code == 5);
    CHECK(st.out.find("not an intact snapshot") != std::string::npos);
    const std::string dir = cluster.root() + "/restored-" + name;
    RunResult rs = ctl(cluster,
                       {"snapshot", "restore", path, "--name", "n1", "--initial-cluster", "n1=127.0.0.1:1", "--data-dir",
                        dir},
                       "rs.out");
    INFO(name << ": restore -> " << rs.exit_code << ": " << rs.out);
    CHECK(rs.exit_code == 5);
    CHECK_FALSE(std::filesystem::exists(dir));
  }
  RunResult flipped_status = ctl(cluster, {"snapshot", "status", cluster.root() + "/flipped.snap"}, "st.out");
  CHECK(flipped_status.out.find("SHA-256 mismatch") != std::string::npos);
  RunResult missing = ctl(cluster, {"snapshot", "status", cluster.root() + "/no-such.snap"}, "st.out");
  CHECK(missing.exit_code == 5);
  CHECK(missing.out.find("cannot open") != std::string::npos);
  RunResult ok = ctl(cluster, {"-w", "table", "snapshot", "status", snap}, "st.out");
  INFO("status of the good file: " << ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("TOTAL KEYS") != std::string::npos);
}
