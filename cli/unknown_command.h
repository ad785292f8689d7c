// Where a command was expected and the word matched none, corralctl says
// which word under which command and suggests the nearest name (CLI11 alone
// says only "A subcommand is required"), as etcdctl (cobra) does.
#pragma once

#include <CLI/CLI.hpp>

namespace corral::cli {

// True when argv names an unknown command; the error is printed (exit 2).
bool report_unknown_command(CLI::App& app, int argc, char** argv);

}  // namespace corral::cli
