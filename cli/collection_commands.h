// corralctl's log-collection commands (schema/records.md): `agents` and
// `tasks` are read-only views of the key space at one revision;
// `collector drain|undrain` and `rebalance` write the operator request keys
// that apply acts on.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/command_support.h"

namespace corral::cli {

struct CollectionArgs {
  std::string collector, app, topic;  // tasks filters; drain/undrain ID
};

struct CollectionCommands {
  CLI::App* agents = nullptr;
  CLI::App* tasks = nullptr;
  CLI::App* drain = nullptr;
  CLI::App* undrain = nullptr;
  CLI::App* rebalance = nullptr;
  bool given() const { return *agents || *tasks || *drain || *undrain || *rebalance; }
};

// agents, tasks, collector (drain, undrain), rebalance.
CollectionCommands add_collection_commands(CLI::App& app, CollectionArgs& args);

// Before connecting: the ids given must be record ids. False: reported, exit 2.
bool check_collection_args(const CollectionCommands& commands, const CollectionArgs& args);

int run_collection(const CollectionCommands& commands, const CollectionArgs& args, CommandContext& ctx);

}  // namespace corral::cli
