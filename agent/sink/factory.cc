#include "agent/sink/factory.h"

#include "agent/sink/stdout_sink.h"

namespace corral::agent::sink {
namespace {

template <typename S>
Result<std::unique_ptr<Sink>> as_sink(Result<std::unique_ptr<S>> opened) {
  if (!opened.ok()) return opened.error();
  return std::unique_ptr<Sink>(std::move(opened).value());
}

}  // namespace

Result<std::unique_ptr<Sink>> make_sink(const SinkSpec& spec, const SinkOptions& options) {
  switch (spec.kind) {
    case SinkSpec::Kind::kFile:
      return as_sink(FileSink::open(FileSinkOptions{spec.target, options.max_open_files}));
    case SinkSpec::Kind::kStdout:
      return std::unique_ptr<Sink>(new StdoutSink(options.stdout_fd));
    case SinkSpec::Kind::kZmqConnect:
    case SinkSpec::Kind::kZmqBind:
      return as_sink(ZmqPushSink::open(ZmqPushOptions{spec.target, spec.kind == SinkSpec::Kind::kZmqBind,
                                                      options.zmq_send_hwm, options.zmq_linger}));
  }
  return make_sink_error(SinkErrorCode::kBadSpec, "unknown sink kind");
}

Result<std::unique_ptr<Sink>> make_sink(std::string_view spec, const SinkOptions& options) {
  auto parsed = parse_sink_spec(spec);
  if (!parsed.ok()) return parsed.error();
  return make_sink(*parsed, options);
}

}  // namespace corral::agent::sink
