// corralctl completion bash: a bash completion script generated from the
// CLI11 app itself (every command, subcommand and flag), so that it never
// falls behind the commands. Install: corralctl completion bash > /etc/bash_completion.d/corralctl
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace corral::cli {

// `completion bash` under `app`; returns it.
CLI::App* add_completion_command(CLI::App& app, std::string& shell);

std::string bash_completion(const CLI::App& app);

}  // namespace corral::cli
