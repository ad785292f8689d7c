#include "coordinator/main/env_flags.h"

#include <cctype>
#include <set>
#include <string_view>

namespace corral::main {

std::string env_name_of(const std::string& long_name) {
  std::string out = kEnvPrefix;
  for (char c : long_name) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

void bind_env(CLI::App& app, const std::string& config_flag) {
  for (CLI::Option* opt : app.get_options()) {
    for (const auto& name : opt->get_lnames()) {
      if ("--" + name == config_flag || name == "help" || name == "version") continue;
      // Flags without a value (none today) would need "true"/"false".
      opt->envname(env_name_of(name));
    }
  }
}

std::optional<std::string> unknown_env(const CLI::App& app, char** env) {
  std::set<std::string> known;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& name : opt->get_lnames()) known.insert(env_name_of(name));
  }
  for (const char* ignored : kIgnoredEnv) known.insert(ignored);
  for (; env && *env; ++env) {
    std::string_view entry(*env);
    const auto eq = entry.find('=');
    const std::string name(entry.substr(0, eq));
    if (!name.starts_with(kEnvPrefix) || name.starts_with(kAgentEnvPrefix)) continue;
    if (!known.count(name)) return name;
  }
  return std::nullopt;
}

}  // namespace corral::main
