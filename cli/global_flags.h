// corralctl's global flags (--endpoints, -w, --command-timeout, CURVE keys, --client-wire,
// --user), allowed before or after the command as in etcdctl, and the
// client options they make.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/output.h"
#include "client/client.h"

namespace corral::cli {

struct GlobalArgs {
  std::string endpoints = "127.0.0.1:2379";
  std::string format = "simple";
  std::string command_timeout = "5s";
  std::string curve_key_file, curve_server_key;  // client/curve_options.h
  std::string client_wire = "auto";               // client/wire_flag.h
  std::string user, password;                    // --user NAME[:PASSWORD], --password
};

// The global flags that take a value: a word after one is not a command.
inline const std::vector<std::string> kValuedGlobalFlags = {"--endpoints",      "-w",     "--write-out",
                                                            "--command-timeout", "--curve-key-file",
                                                            "--curve-server-key", "--user", "--password",
                                                            "--client-wire"};

void add_global_flags(CLI::App& app, GlobalArgs& args);

client::Format format_of(const GlobalArgs& args);

// --command-timeout as a duration of at least 1 ms; nullopt: reported (exit 2).
std::optional<std::chrono::milliseconds> command_timeout_of(const GlobalArgs& args);

// The client's options: endpoints, timeout, the user (its password prompted
// for when not given), CURVE keys. nullopt: reported (exit 2).
std::optional<client::Options> client_options_of(const GlobalArgs& args, std::chrono::milliseconds timeout);

}  // namespace corral::cli
