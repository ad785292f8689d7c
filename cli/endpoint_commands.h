// corralctl endpoint status|health|hashkv: each endpoint asked on its own
// (no redirect to the leader), one row each.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_support.h"
#include "cli/hashkv_command.h"

namespace corral::cli {

struct EndpointCommands {
  CLI::App* status = nullptr;
  CLI::App* health = nullptr;
  CLI::App* hashkv = nullptr;
  bool given() const { return *status || *health || *hashkv; }
};

EndpointCommands add_endpoint_commands(CLI::App& app, HashKvArgs& hashkv_args);

int run_endpoint(const EndpointCommands& commands, const HashKvArgs& hashkv_args, CommandContext& ctx);

}  // namespace corral::cli
