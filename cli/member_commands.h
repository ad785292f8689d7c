// corralctl member list|add|remove|promote and move-leader, as etcdctl's;
// member ids are hexadecimal in and out.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/command_support.h"

namespace corral::cli {

struct MemberArgs {
  std::string name, id_text;
  std::vector<std::string> peer_urls;
  bool learner = false;
  uint64_t id = 0;  // parsed by check_member_args
};

struct MemberCommands {
  CLI::App* list = nullptr;
  CLI::App* add = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* promote = nullptr;
  CLI::App* move_leader = nullptr;
  bool given() const { return *list || *add || *remove || *promote || *move_leader; }
};

// member (list, add, remove, promote), then move-leader.
MemberCommands add_member_commands(CLI::App& app, MemberArgs& args);

// Before connecting: ID must be a hex id. False: reported, exit 2.
bool check_member_args(MemberArgs& args);

int run_member(const MemberCommands& commands, const MemberArgs& args, CommandContext& ctx);

}  // namespace corral::cli
