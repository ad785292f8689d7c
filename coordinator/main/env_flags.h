// corrald's flags from CORRAL_* environment variables, as etcd reads ETCD_*:
// --initial-cluster from CORRAL_INITIAL_CLUSTER (the long name upper-cased,
// dashes as underscores). A flag on the command line wins over its
// variable; a --config file wins over the environment too (CLI11 reads the
// file first). A CORRAL_ variable that names no flag is refused with its
// name (a typo must not leave a default in place), except the agent's
// (CORRAL_AGENT_*) and the scripts' (kIgnoredEnv). CORRAL_CONFIG names the
// --config file (main.cc).
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace corral::main {

inline constexpr const char* kEnvPrefix = "CORRAL_";
inline constexpr const char* kAgentEnvPrefix = "CORRAL_AGENT_";
// CORRAL_FAULT_FS: the storage engine's test-only fault injection
// (coordinator/storage/fault_fs.h); CORRAL_TEST_PUBLISH_APPLY_VERSION: a
// test-only published apply version (coordinator/server/apply_version.h).
// The fault tests' knobs (tests/README.md) reach the corrald processes they
// start.
inline constexpr const char* kIgnoredEnv[] = {"CORRAL_BUILD",           "CORRAL_FAULT_FS",
                                              "CORRAL_POWER_ROUNDS",    "CORRAL_POWER_SEED",
                                              "CORRAL_PARTITION_ROUNDS", "CORRAL_PARTITION_SEED",
                                              "CORRAL_DELAY_ROUNDS",    "CORRAL_DELAY_SEED",
                                              "CORRAL_TEST_PUBLISH_APPLY_VERSION"};

// "CORRAL_" + the flag's long name, upper-case, '-' as '_'.
std::string env_name_of(const std::string& long_name);

// Every long option of `app` but `config_flag` reads its variable.
void bind_env(CLI::App& app, const std::string& config_flag);

// The first CORRAL_ variable of `env` (environ's shape) that names no option
// of `app`, or nullopt.
std::optional<std::string> unknown_env(const CLI::App& app, char** env);

}  // namespace corral::main
