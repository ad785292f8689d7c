#include "agent/config/source_spec.h"

#include <algorithm>

#include "agent/config/rules.h"

namespace corral::agent::config {
namespace {

constexpr const char* kFlag = "--source";

StreamSource parse_one(std::string_view value) {
  size_t eq = value.find('=');
  std::string_view name = value.substr(0, eq);
  size_t slash = name.find('/');
  if (eq == std::string_view::npos || slash == std::string_view::npos) {
    throw ConfigError(kFlag, "'" + std::string(value) + "' is not APP/TOPIC=GLOB");
  }
  std::string_view app = name.substr(0, slash);
  std::string_view topic = name.substr(slash + 1);
  if (!valid_id(app) || !valid_id(topic)) {
    throw ConfigError(kFlag, "'" + std::string(value) +
                                 "': APP and TOPIC must be 1..128 bytes of [A-Za-z0-9._-]");
  }
  return StreamSource{std::string(app), std::string(topic), {std::string(value.substr(eq + 1))}};
}

}  // namespace

std::string stream_source_problem(const StreamSource& s) {
  if (!valid_id(s.app) || !valid_id(s.topic)) {
    return "'" + s.name() + "': APP and TOPIC must be 1..128 bytes of [A-Za-z0-9._-]";
  }
  if (s.globs.empty()) return "'" + s.name() + "' has no glob";
  if (s.globs.size() > kMaxGlobsPerSource) {
    return "'" + s.name() + "' has " + std::to_string(s.globs.size()) + " globs (at most " +
           std::to_string(kMaxGlobsPerSource) + ")";
  }
  for (size_t i = 0; i < s.globs.size(); ++i) {
    const std::string& glob = s.globs[i];
    if (glob.empty() || glob.front() != '/') {
      return "'" + s.name() + "=" + glob + "': the glob must be an absolute path";
    }
    if (std::find(s.globs.begin(), s.globs.begin() + static_cast<long>(i), glob) != s.globs.begin() + static_cast<long>(i)) {
      return "'" + s.name() + "=" + glob + "' is given twice";
    }
  }
  return "";
}

std::vector<StreamSource> merge_sources(const std::vector<std::string>& values) {
  std::vector<StreamSource> out;
  for (const std::string& value : values) {
    StreamSource one = parse_one(value);
    auto same = std::find_if(out.begin(), out.end(), [&](const StreamSource& s) { return s.name() == one.name(); });
    if (same == out.end()) {
      out.push_back(std::move(one));
    } else {
      same->globs.push_back(std::move(one.globs.front()));
    }
  }
  for (const StreamSource& s : out) {
    if (std::string problem = stream_source_problem(s); !problem.empty()) throw ConfigError(kFlag, problem);
  }
  return out;
}

}  // namespace corral::agent::config
