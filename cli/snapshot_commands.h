// corralctl snapshot status FILE and snapshot restore FILE (etcdutl's):
// local commands on a file written by `snapshot save`; they never contact
// a cluster. restore writes a new member's data dir
// (coordinator/server/data_dir_restore.h).
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "cli/output.h"

namespace corral::cli {

struct SnapshotArgs {
  std::string file;
  std::string name = "default";
  std::string initial_cluster;
  std::string advertise_peer;
  std::string data_dir;
  std::string cluster_token = "corral-cluster";
};

struct SnapshotCommands {
  CLI::App* status = nullptr;
  CLI::App* restore = nullptr;
};

// Adds status and restore under `snapshot`.
SnapshotCommands add_snapshot_commands(CLI::App& snapshot, SnapshotArgs& args);

// Exit codes as corralctl's: 0 done, 2 usage (flags that do not fit, a data
// dir that is not empty), 5 local failure (the file cannot be read or is not
// an intact snapshot, the data dir cannot be written).
int run_snapshot_status(const SnapshotArgs& args, client::Printer& out);
int run_snapshot_restore(const SnapshotArgs& args, client::Printer& out);

}  // namespace corral::cli
