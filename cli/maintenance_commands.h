// corralctl's maintenance commands: compaction REV, defrag (every endpoint,
// one at a time, as etcdctl), snapshot save FILE (from the member
// answering) and the local snapshot status|restore (snapshot_commands.h).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "cli/command_support.h"
#include "cli/snapshot_commands.h"

namespace corral::cli {

struct MaintenanceArgs {
  int64_t rev = 0;    // compaction
  std::string file;   // snapshot save
  SnapshotArgs snapshot;  // snapshot status / restore
};

struct MaintenanceCommands {
  CLI::App* compaction = nullptr;
  CLI::App* defrag = nullptr;
  CLI::App* snapshot_save = nullptr;
  SnapshotCommands snapshot_local;  // status, restore: no cluster involved
  bool given() const { return *compaction || *defrag || *snapshot_save; }
  bool local_given() const { return *snapshot_local.status || *snapshot_local.restore; }
};

// Apart, as --help lists them: compaction, (txn,) defrag, snapshot.
void add_compaction_command(CLI::App& app, MaintenanceArgs& args, MaintenanceCommands& commands);
void add_defrag_command(CLI::App& app, MaintenanceCommands& commands);
void add_snapshot_group(CLI::App& app, MaintenanceArgs& args, MaintenanceCommands& commands);

// snapshot status / restore, before anything connects.
int run_local_snapshot(const MaintenanceCommands& commands, const MaintenanceArgs& args, client::Format format);

int run_maintenance(const MaintenanceCommands& commands, const MaintenanceArgs& args, CommandContext& ctx);

}  // namespace corral::cli
