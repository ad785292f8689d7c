// corralctl alarm list | alarm disarm [--member ID]: etcdctl's alarm
// commands for the NOSPACE alarm (a member's data dir below its free-space
// reserve; schema/api.capnp AlarmRequest). disarm is refused (exit 2) while
// the leader's disk is still below its reserve; a member whose disk still
// is raises its alarm again within a second.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "cli/output.h"
#include "client/client.h"

namespace corral::cli {

struct AlarmArgs {
  std::string member;  // disarm: hex member id; empty: every alarm
};

struct AlarmCommands {
  CLI::App* list = nullptr;
  CLI::App* disarm = nullptr;
};

AlarmCommands add_alarm_commands(CLI::App& app, AlarmArgs& args);

// `list`: which subcommand ran (list or disarm).
int run_alarm(client::Client& client, bool list, const AlarmArgs& args, client::Printer& out,
              const std::function<int(const client::Error&)>& fail);

}  // namespace corral::cli
