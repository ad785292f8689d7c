// What `corralctl COMMAND --help` and `corralctl help COMMAND` print below
// a command's usage: an example and the exit codes. One table, so that a
// new command gets its example next to the others'.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace corral::cli {

inline constexpr const char* kExitCodesText =
    "Exit codes: 0 done, 1 the cluster answered with an error, 2 usage (bad flags or arguments), "
    "3 unreachable (no member answered; nothing was applied), 4 timeout (a write may or may not have been applied), "
    "5 local failure (a file could not be read or written)";

// Adds the example and exit codes of every command of `app` as its footer.
void add_help_texts(CLI::App& app);

// `help [COMMAND...]` under `app`; returns it.
CLI::App* add_help_command(CLI::App& app, std::vector<std::string>& words);
// Prints the help of the command `words` names; exit 2 when none.
int run_help(CLI::App& app, const std::vector<std::string>& words);

// The command `words` names ("lease grant"), or nullptr.
CLI::App* find_command(CLI::App& app, const std::vector<std::string>& words);

}  // namespace corral::cli
