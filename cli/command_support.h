// What every corralctl command group (cli/*_commands.h) shares: the exit
// codes, the error reports that choose them, the flag checks made before
// anything is sent, and the wait for SIGINT/SIGTERM.
//
// Exit codes:
//   0  done
//   1  the cluster answered with an error (not found member, compacted, ...)
//   2  usage: bad flags or arguments
//   3  unreachable: no member answered (nothing was applied)
//   4  timeout: no answer in time; a write may or may not have been applied
//   5  local failure (a snapshot file could not be written, a value file
//      or stdin could not be read)
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/output.h"
#include "client/client.h"

namespace corral::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitTimeout = 4;
inline constexpr int kExitLocal = 5;
// How often long-running commands (watch, lease keepalive) look for SIGINT.
inline constexpr int64_t kSignalPollMs = 100;
// Snapshots and defragments go over a whole database: they get this long.
inline constexpr int64_t kSnapshotTimeoutMs = 600'000;

// What a command group's run function works with once connected.
struct CommandContext {
  client::Client& client;
  client::Printer& out;
  client::Format format;
  const std::vector<std::string>& endpoints;
};

int exit_code_for(const client::Error& e);

// Called once the client exists: explains an error that found no member to
// serve it (cli/unreachable_diagnosis.h).
void set_no_member_explainer(std::function<std::string()> explain);

// Prints the error (and, when no member served it, why) to stderr; returns
// its exit code.
int fail(const client::Error& e);
// Members name a lease they do not know in decimal; corralctl says it in
// hex, the form the user typed and every other command prints.
int fail_lease(const client::Error& e, int64_t lease);
// The server says "no such member"; name the id, in hex as everywhere.
int fail_member(const client::Error& e, uint64_t member);
// A local input (a value file, stdin) that could not be read: nothing was sent.
int fail_local(const client::Error& e);

// A whole number of at least `min`, checked by CLI11 before anything is
// sent; the message names the bound (CLI11's own ranges print a double's
// limit, 309 digits long).
CLI::Validator at_least(int64_t min, const std::string& noun);

// The hexadecimal id in `text` (empty: nullopt, no error); otherwise prints
// "Error: <what>'TEXT' is not a hexadecimal id" and sets `bad`.
std::optional<uint64_t> hex_id_arg(const std::string& text, const std::string& what, bool& bad);

// Waits for SIGINT/SIGTERM (blocked in main, so they queue) up to `ms`.
bool interrupted_within(int64_t ms);

}  // namespace corral::cli
