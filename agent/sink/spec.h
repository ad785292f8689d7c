// A sink as one configuration value:
//   file:DIR               the file sink under DIR (the no-loss sink)
//   stdout                 lines to standard output
//   zmq:ENDPOINT           a PUSH socket connected to ENDPOINT (tcp://HOST:PORT)
//   zmq-bind:ENDPOINT      a PUSH socket bound to ENDPOINT (tcp://IP:PORT)
// Parsing is separate from opening so that the configuration can be checked
// before anything is created.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/sink/error.h"

namespace corral::agent::sink {

struct SinkSpec {
  enum class Kind : uint8_t { kFile, kStdout, kZmqConnect, kZmqBind };
  Kind kind = Kind::kFile;
  std::string target;  // the directory or the endpoint; empty for stdout
};

// kBadSpec with a message listing the accepted forms.
Result<SinkSpec> parse_sink_spec(std::string_view spec);

// The spec back in its text form.
std::string to_string(const SinkSpec& spec);

}  // namespace corral::agent::sink
