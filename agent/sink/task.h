// A task id as the collector names it: "<app>/<topic>/<machine-ip>", the
// stream key without its "/apps/" prefix (schema/records.md). Sinks check it
// before using it, because the file sink turns it into a path: "." and ".."
// are valid ids by the schema's character set but never a sink path segment.
#pragma once

#include <string>
#include <string_view>

#include "agent/sink/error.h"

namespace corral::agent::sink {

struct TaskName {
  std::string app;
  std::string topic;
  std::string machine_ip;
};

// kBadInput naming the task when it is not three valid segments.
Result<TaskName> parse_task(std::string_view task);

// kBadInput unless `bytes` is empty or ends with '\n' (whole lines only).
Status check_whole_lines(std::string_view task, std::string_view bytes);

}  // namespace corral::agent::sink
