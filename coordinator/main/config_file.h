// corrald's --config file reader: strict, so that a typo cannot start a
// member with a setting silently dropped (a misspelt initial-cluster once
// started a cluster of its own).
//
// Format (a subset of TOML/INI that every corrald flag fits in):
//   # comment            whole-line comments start with '#' or ';'
//   [default]            the only section allowed (optional)
//   key = value          key: a flag's long name without the dashes;
//   key = "value"        value: one token, or one double-quoted string
//   key = value  # note  a comment may follow a value after whitespace
// Blank lines are skipped. Everything else is refused with the line number:
// a line that is not key = value, an unknown key, a key given twice, a
// value with spaces that is not quoted. (CLI11 2.1's own reader skips lines
// shorter than 3 characters, takes a bare word as "key = true" and splits
// values at commas, which breaks initial-cluster.)
#pragma once

#include <istream>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace corral::main {

class StrictConfigReader : public CLI::Config {
 public:
  // known_keys: every key a file may set (the long flag names, no dashes).
  explicit StrictConfigReader(std::set<std::string> known_keys) : known_keys_(std::move(known_keys)) {}

  // Throws CLI::ConfigError naming the line and what is wrong with it.
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

 private:
  std::set<std::string> known_keys_;
};

// The long names (without "--") of every option of `app` but `config_flag`.
std::set<std::string> config_keys_of(const CLI::App& app, const std::string& config_flag);

}  // namespace corral::main
