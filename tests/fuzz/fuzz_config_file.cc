// corrald's --config file reader (coordinator/main/config_file.h), as
// corrald runs it: through CLI11, with corrald's option names. Only a
// CLI::ConfigError may come out of a bad file (it names the line); a file
// that is read gives each known key once, with one value, and written back
// as `key = "value"` lines it reads the same.
#include <sstream>

#include <CLI/CLI.hpp>

#include "coordinator/main/config_file.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

namespace {

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "name", "data-dir", "listen-peer", "listen-client", "advertise-peer", "advertise-client",
      "initial-cluster", "initial-cluster-state", "heartbeat-interval", "election-timeout",
      "log-level", "quota-backend-bytes", "max-request-bytes", "tick-ms"};
  return keys;
}

std::vector<CLI::ConfigItem> read(const main::StrictConfigReader& reader, const std::string& text) {
  std::istringstream in(text);
  return reader.from_config(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_view(data, size));
  // One reader for every input: from_config is const, and building one
  // copies the key set (13% of this target's time when it was per input).
  static const main::StrictConfigReader reader(known_keys());
  std::vector<CLI::ConfigItem> items;
  try {
    items = read(reader, text);
  } catch (const CLI::ConfigError&) {
    return 0;
  }
  std::set<std::string> seen;
  std::string again;
  for (const auto& item : items) {
    FUZZ_CHECK(known_keys().count(item.name) == 1);
    FUZZ_CHECK(seen.insert(item.name).second);
    FUZZ_CHECK(item.inputs.size() == 1);
    if (item.inputs[0].find('"') != std::string::npos || item.inputs[0].find('\n') != std::string::npos) return 0;
    again += item.name + " = \"" + item.inputs[0] + "\"\n";
  }
  std::vector<CLI::ConfigItem> back;
  try {
    back = read(reader, again);
  } catch (const CLI::ConfigError& e) {
    std::fprintf(stderr, "re-read refused: %s\n", e.what());
    FUZZ_CHECK(false);
  }
  FUZZ_CHECK(back.size() == items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    FUZZ_CHECK(back[i].name == items[i].name && back[i].inputs == items[i].inputs);
  }
  return 0;
}
