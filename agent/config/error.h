// A configuration that cannot be used: one line naming the flag (or the
// config-file key) and what is wrong with it.
#pragma once

#include <stdexcept>
#include <string>

namespace corral::agent::config {

class ConfigError : public std::runtime_error {
 public:
  // `what()` is "<where>: <problem>", e.g. "--capacity: 0 is not in 1..1000000".
  ConfigError(std::string where, const std::string& problem)
      : std::runtime_error(where.empty() ? problem : where + ": " + problem), where_(std::move(where)) {}
  // The flag ("--capacity"), the config key ("config file a.conf: key 'capacty'"), or "".
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

}  // namespace corral::agent::config
