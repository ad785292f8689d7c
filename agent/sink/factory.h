// Opens the sink a spec names (spec.h): the one call corral-agent's main
// needs.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "agent/sink/file_sink.h"
#include "agent/sink/sink.h"
#include "agent/sink/spec.h"
#include "agent/sink/zmq_push_sink.h"

namespace corral::agent::sink {

struct SinkOptions {
  size_t max_open_files = kDefaultMaxOpenFiles;   // file sink
  int zmq_send_hwm = kDefaultZmqSendHwm;          // zmq sinks, messages
  std::chrono::milliseconds zmq_linger = kDefaultZmqLinger;
  int stdout_fd = STDOUT_FILENO;                  // stdout sink (tests give a pipe)
};

// kBadSpec for a malformed spec; the sink's own open errors otherwise.
Result<std::unique_ptr<Sink>> make_sink(std::string_view spec, const SinkOptions& options = {});
Result<std::unique_ptr<Sink>> make_sink(const SinkSpec& spec, const SinkOptions& options = {});

}  // namespace corral::agent::sink
