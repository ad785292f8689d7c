// corralctl lease grant|keepalive|revoke|list|ttl, as etcdctl's; lease ids
// are hexadecimal in and out. grant --put KEY VALUE puts keys with the new
// lease in the same revision.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cli/command_support.h"

namespace corral::cli {

struct LeaseArgs {
  int64_t ttl = 0;
  std::vector<std::pair<std::string, std::string>> grant_puts;  // grant --put KEY VALUE
  std::string id_text;
  bool once = false, with_keys = false;
  uint64_t id = 0;  // parsed by check_lease_args
};

struct LeaseCommands {
  CLI::App* grant = nullptr;
  CLI::App* keepalive = nullptr;
  CLI::App* revoke = nullptr;
  CLI::App* list = nullptr;
  CLI::App* ttl = nullptr;
  bool given() const { return *grant || *keepalive || *revoke || *list || *ttl; }
};

LeaseCommands add_lease_commands(CLI::App& app, LeaseArgs& args);

// Before connecting: ID must be a hex id. False: reported, exit 2.
bool check_lease_args(LeaseArgs& args);

int run_lease(const LeaseCommands& commands, const LeaseArgs& args, CommandContext& ctx);

}  // namespace corral::cli
