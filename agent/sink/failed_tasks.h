// The tasks of a sink whose last write failed. Sticky: every call for such a
// task answers its error until close(task), because the bytes appended since
// its last durable point are in an unknown state (sink.h). Not thread-safe:
// the sink's own mutex guards it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "agent/sink/error.h"

namespace corral::agent::sink {

class FailedTasks {
 public:
  // The task's error, or ok when it has none.
  Status check(std::string_view task) const {
    auto it = failed_.find(task);
    return it == failed_.end() ? Status::ok_status() : Status(it->second);
  }
  // Remembers `s` for `task` unless it is ok; returns `s`.
  Status record(std::string_view task, Status s) {
    if (!s.ok()) failed_.emplace(std::string(task), s.error());
    return s;
  }
  // close(task): forgets its error and answers it once more (ok if none).
  Status clear(std::string_view task) {
    auto it = failed_.find(task);
    if (it == failed_.end()) return Status::ok_status();
    SinkError error = it->second;
    failed_.erase(it);
    return error;
  }

 private:
  std::map<std::string, SinkError, std::less<>> failed_;
};

}  // namespace corral::agent::sink
