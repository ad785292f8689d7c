// corralctl: the operator's command line for a corral cluster, shaped like
// etcdctl v3. Lease and member ids are hexadecimal, as etcdctl prints them,
// in what it takes, prints and reports in errors alike. Exit codes:
// cli/command_support.h.
//
// Each command group registers its commands and runs them in a file of its
// own (cli/*_commands.h); main registers them in the order `--help` lists
// them, checks the arguments that need no cluster, connects and dispatches.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/alarm_command.h"
#include "cli/auth_commands.h"
#include "cli/collection_commands.h"
#include "cli/command_support.h"
#include "cli/completion.h"
#include "cli/concurrency_commands.h"
#include "cli/curve_keygen.h"
#include "cli/endpoint_commands.h"
#include "cli/global_flags.h"
#include "cli/lock_command_split.h"
#include "cli/help_texts.h"
#include "cli/kv_commands.h"
#include "cli/lease_commands.h"
#include "cli/maintenance_commands.h"
#include "cli/member_commands.h"
#include "cli/unknown_command.h"
#include "cli/unreachable_diagnosis.h"
#include "client/client.h"

using namespace corral::cli;
using corral::client::Client;

namespace {

// Every command group's arguments and CLI11 handles.
struct Commands {
  GlobalArgs global;
  std::string curve_out;
  CLI::App* curve_keygen = nullptr;
  KvArgs kv_args;
  KvCommands kv;
  LeaseArgs lease_args;
  LeaseCommands lease;
  MemberArgs member_args;
  MemberCommands member;
  HashKvArgs hashkv_args;
  EndpointCommands endpoint;
  AlarmArgs alarm_args;
  AlarmCommands alarm;
  MaintenanceArgs maintenance_args;
  MaintenanceCommands maintenance;
  ConcurrencyArgs concurrency_args;
  ConcurrencyCommands concurrency;
  CollectionArgs collection_args;
  CollectionCommands collection;
  AuthArgs auth_args;
  std::string completion_shell;
  CLI::App* completion = nullptr;
  std::vector<std::string> help_words;
  CLI::App* help = nullptr;
};

// In the order `corralctl --help` lists them.
void register_commands(CLI::App& app, Commands& c) {
  add_global_flags(app, c.global);
  c.curve_keygen = add_curve_commands(app, c.curve_out);
  c.kv = add_kv_commands(app, c.kv_args);
  c.lease = add_lease_commands(app, c.lease_args);
  c.member = add_member_commands(app, c.member_args);
  c.endpoint = add_endpoint_commands(app, c.hashkv_args);
  c.alarm = add_alarm_commands(app, c.alarm_args);
  add_compaction_command(app, c.maintenance_args, c.maintenance);
  add_txn_command(app, c.kv_args, c.kv);
  add_defrag_command(app, c.maintenance);
  add_snapshot_group(app, c.maintenance_args, c.maintenance);
  c.concurrency = add_concurrency_commands(app, c.concurrency_args);
  c.collection = add_collection_commands(app, c.collection_args);
  add_auth_commands(app, c.auth_args);
  c.completion = add_completion_command(app, c.completion_shell);
  c.help = add_help_command(app, c.help_words);
  add_help_texts(app);
}

// Before anything connects: the arguments no cluster is needed to refuse.
bool usable_arguments(Commands& c) {
  return check_lease_args(c.lease_args) && check_member_args(c.member_args) && check_kv_args(c.kv_args) &&
         check_collection_args(c.collection, c.collection_args);
}

int run_connected(Commands& c, CommandContext& ctx, const std::vector<std::string>& lock_command) {
  if (auth_command_given(c.auth_args)) return run_auth_command(ctx.client, c.auth_args, fail);
  if (c.kv.given()) return run_kv(c.kv, c.kv_args, ctx);
  if (c.lease.given()) return run_lease(c.lease, c.lease_args, ctx);
  if (c.member.given()) return run_member(c.member, c.member_args, ctx);
  if (*c.concurrency.lock) {
    return run_lock(ctx.client, c.concurrency_args, lock_command, interrupted_within, exit_code_for);
  }
  if (*c.concurrency.elect) return run_elect(ctx.client, c.concurrency_args, ctx.out, interrupted_within, exit_code_for);
  if (*c.alarm.list || *c.alarm.disarm) return run_alarm(ctx.client, c.alarm.list->parsed(), c.alarm_args, ctx.out, fail);
  if (c.endpoint.given()) return run_endpoint(c.endpoint, c.hashkv_args, ctx);
  if (c.maintenance.given()) return run_maintenance(c.maintenance, c.maintenance_args, ctx);
  if (c.collection.given()) return run_collection(c.collection, c.collection_args, ctx);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"corralctl: talk to a corral cluster"};
  app.set_version_flag("--version", std::string("corralctl version: ") + CORRAL_VERSION);
  app.require_subcommand(1);
  // Global flags (-w, --endpoints) may also follow the command, as in etcdctl.
  app.fallthrough();
  Commands c;
  register_commands(app, c);

  std::vector<char*> arg_words(argv, argv + argc);
  const std::vector<std::string> lock_command =
      split_lock_command(arg_words, kValuedGlobalFlags);
  argc = static_cast<int>(arg_words.size());
  argv = arg_words.data();
  if (report_unknown_command(app, argc, argv)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  if (*c.curve_keygen) return run_curve_keygen(c.curve_out);
  if (*c.completion) {
    std::cout << bash_completion(app);
    return kExitOk;
  }
  if (*c.help) return run_help(app, c.help_words);
  const corral::client::Format format = format_of(c.global);
  const std::optional<std::chrono::milliseconds> timeout = command_timeout_of(c.global);
  if (!timeout || !usable_arguments(c)) return kExitUsage;
  // Local commands: no cluster involved.
  if (c.maintenance.local_given()) return run_local_snapshot(c.maintenance, c.maintenance_args, format);

  // Signals are taken with sigtimedwait by long-running commands; block them
  // before the client's thread exists so that it inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::optional<corral::client::Options> options = client_options_of(c.global, *timeout);
  if (!options) return kExitUsage;
  auto connected = Client::connect(*options);
  if (!connected.ok()) {
    std::fprintf(stderr, "Error: %s\n", to_string(connected.error()).c_str());
    return kExitUsage;
  }
  Client& client = *connected.value();
  corral::client::Printer out(format, std::cout);
  set_no_member_explainer([&client, &options] { return explain(probe_endpoints(client, options->endpoints)); });
  CommandContext ctx{client, out, format, options->endpoints};
  return run_connected(c, ctx, lock_command);
}
