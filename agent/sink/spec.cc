#include "agent/sink/spec.h"

namespace corral::agent::sink {
namespace {

constexpr std::string_view kFilePrefix = "file:";
constexpr std::string_view kStdout = "stdout";
constexpr std::string_view kZmqPrefix = "zmq:";
constexpr std::string_view kZmqBindPrefix = "zmq-bind:";
constexpr std::string_view kForms = "expected file:DIR, stdout, zmq:tcp://HOST:PORT or zmq-bind:tcp://IP:PORT";

SinkError bad(std::string_view spec, std::string_view why) {
  return make_sink_error(SinkErrorCode::kBadSpec,
                         "sink '" + std::string(spec) + "': " + std::string(why) + " (" + std::string(kForms) + ")");
}

// ZeroMQ checks the rest when it connects; here only the obvious mistakes.
bool plausible_endpoint(std::string_view e) {
  size_t scheme = e.find("://");
  return scheme != std::string_view::npos && scheme > 0 && e.size() > scheme + 3;
}

}  // namespace

Result<SinkSpec> parse_sink_spec(std::string_view spec) {
  if (spec == kStdout) return SinkSpec{SinkSpec::Kind::kStdout, ""};
  if (spec.starts_with(kFilePrefix)) {
    std::string_view dir = spec.substr(kFilePrefix.size());
    if (dir.empty()) return bad(spec, "empty directory");
    return SinkSpec{SinkSpec::Kind::kFile, std::string(dir)};
  }
  bool bind = spec.starts_with(kZmqBindPrefix);
  if (bind || spec.starts_with(kZmqPrefix)) {
    std::string_view endpoint = spec.substr(bind ? kZmqBindPrefix.size() : kZmqPrefix.size());
    if (!plausible_endpoint(endpoint)) return bad(spec, "not an endpoint");
    return SinkSpec{bind ? SinkSpec::Kind::kZmqBind : SinkSpec::Kind::kZmqConnect, std::string(endpoint)};
  }
  return bad(spec, "unknown kind");
}

std::string to_string(const SinkSpec& spec) {
  switch (spec.kind) {
    case SinkSpec::Kind::kFile: return std::string(kFilePrefix) + spec.target;
    case SinkSpec::Kind::kStdout: return std::string(kStdout);
    case SinkSpec::Kind::kZmqConnect: return std::string(kZmqPrefix) + spec.target;
    case SinkSpec::Kind::kZmqBind: return std::string(kZmqBindPrefix) + spec.target;
  }
  return "";
}

}  // namespace corral::agent::sink
