#include "coordinator/main/config_file.h"

#include <map>

namespace corral::main {

namespace {

std::string trimmed(const std::string& s) {
  const char* space = " \t\r\n";
  size_t first = s.find_first_not_of(space);
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

[[noreturn]] void refuse(size_t line_no, const std::string& why) {
  throw CLI::ConfigError("config file line " + std::to_string(line_no) + ": " + why);
}

// The value of a key = value line: one token or one quoted string, with an
// optional trailing comment.
std::string parse_value(const std::string& raw, size_t line_no, const std::string& key) {
  std::string v = trimmed(raw);
  if (!v.empty() && v.front() == '"') {
    size_t close = v.find('"', 1);
    if (close == std::string::npos) refuse(line_no, "value of '" + key + "' has no closing quote");
    std::string rest = trimmed(v.substr(close + 1));
    if (!rest.empty() && rest.front() != '#') refuse(line_no, "text after the quoted value of '" + key + "'");
    return v.substr(1, close - 1);
  }
  size_t comment = v.find_first_of(" \t");
  if (comment != std::string::npos) {
    std::string rest = trimmed(v.substr(comment));
    if (rest.front() != '#') refuse(line_no, "value of '" + key + "' has spaces; quote it");
    v = trimmed(v.substr(0, comment));
  }
  if (v.empty()) refuse(line_no, "'" + key + "' has no value");
  return v;
}

}  // namespace

std::vector<CLI::ConfigItem> StrictConfigReader::from_config(std::istream& input) const {
  std::vector<CLI::ConfigItem> items;
  std::map<std::string, size_t> seen_at;
  std::string line;
  for (size_t line_no = 1; std::getline(input, line); ++line_no) {
    std::string t = trimmed(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (t.front() == '[') {
      if (t != "[default]") refuse(line_no, "section " + t + " is not allowed (only [default])");
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos) refuse(line_no, "'" + t + "' is not key = value");
    std::string key = trimmed(t.substr(0, eq));
    if (key.size() >= 2 && key.front() == '"' && key.back() == '"') key = key.substr(1, key.size() - 2);
    if (key.empty()) refuse(line_no, "'" + t + "' has no key");
    if (!known_keys_.count(key)) refuse(line_no, "unknown key '" + key + "' (see corrald --help)");
    auto [at, fresh] = seen_at.emplace(key, line_no);
    if (!fresh) refuse(line_no, "'" + key + "' was already set on line " + std::to_string(at->second));
    CLI::ConfigItem item;
    item.name = key;
    item.inputs = {parse_value(t.substr(eq + 1), line_no, key)};
    items.push_back(std::move(item));
  }
  if (input.bad()) throw CLI::ConfigError("config file: read error");
  return items;
}

std::set<std::string> config_keys_of(const CLI::App& app, const std::string& config_flag) {
  std::set<std::string> keys;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& name : opt->get_lnames()) {
      if ("--" + name != config_flag) keys.insert(name);
    }
  }
  keys.erase("help");
  return keys;
}

}  // namespace corral::main
