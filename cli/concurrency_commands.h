// corralctl lock NAME [COMMAND...] and elect NAME [PROPOSAL] | elect -l NAME:
// etcdctl's, on the client's concurrency recipes (client/concurrency/).
//  lock: takes the lock, then runs COMMAND (with CORRAL_LOCK_KEY and
//        CORRAL_LOCK_REV in its environment) and releases the lock when it
//        ends, exiting with its exit code; without COMMAND prints the lock's
//        key and holds the lock until SIGINT/SIGTERM.
//  elect: campaigns with PROPOSAL; once leader prints its key and value and
//        leads until SIGINT/SIGTERM (then resigns). -l prints every new
//        leader's key and value until interrupted.
// The session's lease (--ttl seconds) is what frees the lock or leadership
// of a corralctl that is killed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/output.h"
#include "client/client.h"

namespace corral::cli {

struct ConcurrencyArgs {
  std::string name;
  std::string proposal;
  bool listen = false;
  int64_t ttl_seconds = 10;
  std::vector<std::string> command_words;  // only ever empty: split_lock_command takes them first
};

struct ConcurrencyCommands {
  CLI::App* lock = nullptr;
  CLI::App* elect = nullptr;
};

ConcurrencyCommands add_concurrency_commands(CLI::App& app, ConcurrencyArgs& args);

// `interrupted_within(ms)`: waits up to ms for SIGINT/SIGTERM (blocked by
// the caller), true if one came. `exit_code_for`: of a client error.
int run_lock(client::Client& client, const ConcurrencyArgs& args, const std::vector<std::string>& command,
             const std::function<bool(int64_t)>& interrupted_within,
             const std::function<int(const client::Error&)>& exit_code_for);
int run_elect(client::Client& client, const ConcurrencyArgs& args, client::Printer& out,
              const std::function<bool(int64_t)>& interrupted_within,
              const std::function<int(const client::Error&)>& exit_code_for);

}  // namespace corral::cli
