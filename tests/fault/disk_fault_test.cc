// Disk faults of one member of a real 3-member cluster:
//  - its data dir's file system fills up (ENOSPC) under write load: the
//    member stops, the other two go on, and
//    once space is back the member restarts and catches up with nothing
//    acknowledged lost;
//  - its data dir is corrupted while it is down: it refuses to start, with
//    a message naming the data dir, and writes nothing.
// The full disk is a small tmpfs mounted in a mount namespace that the test
// process makes for itself (unshare), so the machine's mounts are untouched.
#include <catch2/catch.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/fault/workload.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::fault;
using namespace std::chrono_literals;

namespace {

constexpr auto kProgressTimeout = 20000ms;
constexpr auto kCatchUpTimeout = 30000ms;
constexpr auto kFullDiskTimeout = 60000ms;
constexpr size_t kVictim = 2;
constexpr const char* kTmpfsSize = "size=48m";
constexpr size_t kFillChunk = 1 << 20;

// Fills the file system under `dir` with one file until it refuses more;
// returns the file's path.
std::string fill_disk(const std::string& dir) {
  const std::string path = dir + "/filler";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::string chunk(kFillChunk, 'x');
  // Bounded by the file system's size: 48 MiB at most.
  for (int i = 0; i < 64; ++i) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), f) != chunk.size()) break;
    if (std::fflush(f) != 0) break;
  }
  // The last bytes, below a whole chunk.
  for (int i = 0; i < 1024; ++i) {
    if (std::fwrite(chunk.data(), 1, 1024, f) != 1024 || std::fflush(f) != 0) break;
  }
  std::fclose(f);
  return path;
}

}  // namespace

TEST_CASE("disk full on one member: it stops, the others go on, it comes back whole", "[fault][disk]") {
  if (::geteuid() != 0) {
    WARN("skipped: not root (a tmpfs mount needs CAP_SYS_ADMIN)");
    return;
  }
  // Our own mount namespace, with nothing propagated back to the machine's.
  REQUIRE(::unshare(CLONE_NEWNS) == 0);
  REQUIRE(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);

  // Frequent snapshots: each flushes the tables, so the full disk is met
  // within seconds (the write-ahead log has space reserved ahead).
  Cluster cluster(ClusterOptions{.snapshot_count = 1000});
  const std::string disk = cluster.root() + "/small-disk";
  std::filesystem::create_directories(disk);
  REQUIRE(::mount("tmpfs", disk.c_str(), "tmpfs", 0, kTmpfsSize) == 0);
  cluster.member(kVictim).data_dir = disk + "/" + cluster.member(kVictim).name + ".data";
  cluster.start();

  LeaderWatch leaders(cluster);
  WriteLoad load(cluster, WriteLoadOptions{.threads = 4, .writes_per_thread = 100'000, .max_duration = 120'000ms});
  load.start();
  REQUIRE(wait_until([&] { return load.acked() >= 200; }, kProgressTimeout));

  const std::string filler = fill_disk(disk);
  // The member stops: its next synced write or flush fails.
  auto exited = [&] { return cluster.member(kVictim).process.poll().has_value(); };
  REQUIRE(wait_until(exited, kFullDiskTimeout));
  const std::string log = cluster.log_of(kVictim);
  INFO("victim's log tail: " << log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
  // It stops rather than carrying on. (Known: the message is often RocksDB's
  // own assertion on a sync after the failed write, not ours; see
  // tests/integration/FINDINGS.md.)
  CHECK(*cluster.member(kVictim).process.poll() != 0);
  CHECK((log.find("No space left") != std::string::npos || log.find("Assertion") != std::string::npos));

  // The other two keep a quorum.
  const size_t acked = load.acked();
  CHECK(wait_until([&] { return load.acked() >= acked + 100; }, kProgressTimeout));

  // Space comes back: the member restarts from its data dir and catches up.
  std::filesystem::remove(filler);
  cluster.member(kVictim).process = Process();
  cluster.start_member(kVictim);
  load.stop();
  leaders.stop();
  auto reader = cluster.client();
  auto marker = require_ok(reader->put("/disk/done", "1"), "marker");
  (void)marker;
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  auto st = cluster.status(*leader);
  REQUIRE(st);
  CHECK(cluster.wait_applied(kVictim, st->raft_applied_index, kCatchUpTimeout));

  WriteCheck check = check_writes(*reader, "/load/", load.outcomes());
  print_summary("disk full on one member", load, check, leaders.changes());
  CHECK(check.lost == 0);
  CHECK(check.duplicated == 0);
  CHECK(check.phantom == 0);
  // The restarted member serves the same key space as the leader.
  auto victim_reader = cluster.client({cluster.member(kVictim).client_url()});
  corral::client::RangeRequest count_all;
  count_all.key = "/load/";
  count_all.range_end = corral::client::prefix_range_end("/load/");
  count_all.count_only = true;
  count_all.serializable = true;
  auto on_victim = require_ok(victim_reader->range(count_all), "count on the restarted member");
  count_all.serializable = false;
  auto on_cluster = require_ok(reader->range(count_all), "count on the cluster");
  CHECK(on_victim.count == on_cluster.count);
  ::umount2(disk.c_str(), MNT_DETACH);
}

TEST_CASE("a corrupted data dir: the member refuses to start and says which", "[fault][disk]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  for (int i = 0; i < 50; ++i) require_ok(c->put("/corrupt/" + std::to_string(i), "v"), "put");
  REQUIRE(cluster.signal_member(kVictim, SIGTERM) == 0);
  // Garble every table file and the manifest of the stopped member.
  const std::string dir = cluster.member(kVictim).data_dir;
  size_t garbled = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file()) continue;
    if (name.rfind("MANIFEST-", 0) == 0 || name == "CURRENT" || entry.path().extension() == ".sst") {
      std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
      const std::string junk(64, '\x5a');
      f.seekp(0);
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
      ++garbled;
    }
  }
  REQUIRE(garbled > 0);
  Process p = Process::spawn(corrald_path(),
                             {"--name", cluster.member(kVictim).name, "--data-dir", dir, "--listen-peer",
                              cluster.member(kVictim).peer_url(), "--listen-client",
                              cluster.member(kVictim).client_url(), "--initial-cluster", cluster.initial_cluster(),
                              "--tick-ms", "10"},
                             cluster.root() + "/corrupt-start.log");
  auto status = p.wait_for(15000ms);
  REQUIRE(status.has_value());
  CHECK(*status != 0);
  const std::string out = read_file(cluster.root() + "/corrupt-start.log");
  INFO(out);
  CHECK(out.find(dir) != std::string::npos);
  CHECK(out.find("ready") == std::string::npos);
  // The other two still serve every key.
  auto all = require_ok(c->get_prefix("/corrupt/"), "read back");
  CHECK(all.kvs.size() == 50);
}
