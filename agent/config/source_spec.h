// --source APP/TOPIC=GLOB values into one StreamSource per APP/TOPIC.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"

namespace corral::agent::config {

// Repeated APP/TOPIC values add their globs to the first one's stream, in
// the order given. Throws ConfigError naming --source and the value for a
// malformed value, an invalid id, a relative glob, the same glob twice for a
// stream, or more than kMaxGlobsPerSource globs.
std::vector<StreamSource> merge_sources(const std::vector<std::string>& values);

// The checks on one stream (ids, 1..kMaxGlobsPerSource absolute distinct
// globs); "" if fine, else the problem.
std::string stream_source_problem(const StreamSource& source);

}  // namespace corral::agent::config
