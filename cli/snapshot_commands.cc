#include "cli/snapshot_commands.h"

#include <cstdio>

#include "coordinator/server/data_dir_restore.h"
#include "coordinator/server/snapshot_file.h"

namespace corral::cli {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitLocal = 5;

int fail(const corral::Error& e, int code) {
  std::fprintf(stderr, "Error: %s\n", e.message.c_str());
  return code;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

SnapshotCommands add_snapshot_commands(CLI::App& snapshot, SnapshotArgs& a) {
  SnapshotCommands c;
  c.status = snapshot.add_subcommand(
      "status", "status FILE: the revision, key count, size and hash of a saved snapshot (checks its SHA-256)");
  c.status->add_option("file", a.file, "a file written by snapshot save")->required();
  c.restore = snapshot.add_subcommand(
      "restore",
      "restore FILE --name N --initial-cluster N=URL,... --data-dir DIR: a new member's data dir holding the "
      "snapshot's keys, revisions and leases, for a new cluster (run once per member, same flags but --name)");
  c.restore->add_option("file", a.file, "a file written by snapshot save")->required();
  c.restore->add_option("--name", a.name, "this member's name, one of --initial-cluster")->capture_default_str();
  c.restore->add_option("--initial-cluster", a.initial_cluster, "every member of the new cluster: NAME=PEER_URL,...")
      ->required();
  c.restore->add_option("--initial-advertise-peer-urls", a.advertise_peer,
                        "this member's peer URL (checked against --initial-cluster)");
  c.restore->add_option("--data-dir", a.data_dir, "the new data dir (must not exist or be empty); default NAME.corral");
  c.restore->add_option("--initial-cluster-token", a.cluster_token,
                        "makes the new cluster's id differ from any other restored from the same snapshot")
      ->capture_default_str();
  return c;
}

int run_snapshot_status(const SnapshotArgs& a, client::Printer& out) {
  auto file = server::read_snapshot_file(a.file);
  if (!file.ok()) return fail(file.error(), kExitLocal);
  auto sum = server::summarize(*file);
  if (!sum.ok()) return fail(sum.error(), kExitLocal);
  const std::string json = "{\"hash\":\"" + sum->hash + "\",\"revision\":" + std::to_string(sum->revision) +
                           ",\"totalKey\":" + std::to_string(sum->total_keys) +
                           ",\"liveKeys\":" + std::to_string(sum->live_keys) +
                           ",\"leases\":" + std::to_string(sum->leases) +
                           ",\"totalSize\":" + std::to_string(sum->size_bytes) +
                           ",\"compactRevision\":" + std::to_string(sum->compact_revision) +
                           ",\"sha256\":\"" + file->digest_hex + "\"}";
  out.report({"HASH", "REVISION", "TOTAL KEYS", "LIVE KEYS", "LEASES", "TOTAL SIZE"},
             {{sum->hash, std::to_string(sum->revision), std::to_string(sum->total_keys),
               std::to_string(sum->live_keys), std::to_string(sum->leases), client::human_bytes(sum->size_bytes)}},
             json);
  return kExitOk;
}

int run_snapshot_restore(const SnapshotArgs& a, client::Printer& out) {
  auto file = server::read_snapshot_file(a.file);
  if (!file.ok()) return fail(file.error(), kExitLocal);
  server::RestoreOptions o;
  o.name = a.name;
  o.initial_cluster = a.initial_cluster;
  o.advertise_peer = a.advertise_peer;
  o.data_dir = a.data_dir.empty() ? a.name + ".corral" : a.data_dir;
  o.cluster_token = a.cluster_token;
  auto done = server::restore_data_dir(o, *file);
  if (!done.ok()) return fail(done.error(), done.error().code == ErrorCode::kBadRequest ? kExitUsage : kExitLocal);
  std::string peer;
  for (const auto& m : done->members) {
    if (m.id == done->member_id) peer = m.peer_urls.at(0);
  }
  out.line("Restored snapshot " + a.file + " (revision " + std::to_string(done->revision) + ") into " + o.data_dir +
           ": member " + a.name + " (id " + hex16(done->member_id) + ") of new cluster " + hex16(done->cluster_id) +
           "\nStart it with: corrald --name " + a.name + " --data-dir " + o.data_dir + " --listen-peer " + peer +
           " --initial-cluster " + a.initial_cluster + " --listen-client URL");
  return kExitOk;
}

}  // namespace corral::cli
