#include "cli/maintenance_commands.h"

#include <chrono>
#include <iostream>

namespace corral::cli {

using namespace corral::client;

namespace {

// Member by member, as etcdctl: each has its own tables.
int run_defrag(CommandContext& ctx) {
  CallOptions co;
  co.timeout = std::chrono::milliseconds(kSnapshotTimeoutMs);
  int rc = kExitOk;
  for (const std::string& ep : ctx.endpoints) {
    auto res = ctx.client.defragment_of(ep, co);
    if (!res.ok()) {
      ctx.out.line("Failed to defragment " + ep + ": " + to_string(res.error()));
      rc = exit_code_for(res.error());
      continue;
    }
    ctx.out.line("Defragmented " + ep + ": " + std::to_string(res->db_size_bytes_before) + " -> " +
                 std::to_string(res->db_size_bytes_after) + " bytes");
  }
  return rc;
}

}  // namespace

void add_compaction_command(CLI::App& app, MaintenanceArgs& a, MaintenanceCommands& c) {
  c.compaction = app.add_subcommand("compaction", "compaction REV");
  c.compaction->add_option("rev", a.rev, "compact history before this revision")
      ->required()
      ->check(at_least(1, "a revision"));
}

void add_defrag_command(CLI::App& app, MaintenanceCommands& c) {
  c.defrag = app.add_subcommand(
      "defrag", "defrag: rewrite every endpoint's key-space tables without deleted data (after delete and compaction)");
}

void add_snapshot_group(CLI::App& app, MaintenanceArgs& a, MaintenanceCommands& c) {
  auto* snapshot = app.add_subcommand("snapshot", "snapshot save|status|restore FILE");
  snapshot->require_subcommand(1);
  snapshot->fallthrough();
  c.snapshot_save = snapshot->add_subcommand("save", "save FILE: the state of the member answering, with a SHA-256");
  c.snapshot_save->add_option("file", a.file)->required();
  c.snapshot_local = add_snapshot_commands(*snapshot, a.snapshot);
}

int run_local_snapshot(const MaintenanceCommands& c, const MaintenanceArgs& a, Format format) {
  Printer local_out(format, std::cout);
  return *c.snapshot_local.status ? run_snapshot_status(a.snapshot, local_out)
                                  : run_snapshot_restore(a.snapshot, local_out);
}

int run_maintenance(const MaintenanceCommands& c, const MaintenanceArgs& a, CommandContext& ctx) {
  if (*c.defrag) return run_defrag(ctx);
  if (*c.compaction) {
    auto res = ctx.client.compact(a.rev);
    if (!res.ok()) return fail(res.error());
    ctx.out.line("compacted revision " + std::to_string(a.rev));
    return kExitOk;
  }
  CallOptions co;
  co.timeout = std::chrono::milliseconds(kSnapshotTimeoutMs);
  auto res = ctx.client.snapshot_save(a.file, co);
  if (!res.ok()) return fail(res.error());
  ctx.out.line("Snapshot saved at " + a.file + " (" + std::to_string(res.value()) + " bytes)");
  return kExitOk;
}

}  // namespace corral::cli
