#include "agent/sink/zmq_push_sink.h"

#include <algorithm>

#include "agent/sink/task.h"

namespace corral::agent::sink {
namespace {

int remaining_ms(Clock::time_point deadline) {
  Clock::time_point now = Clock::now();
  if (deadline <= now) return 0;  // also keeps time_point::min() from overflowing below
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

SinkError zmq_failure(const char* what, const zmq::error_t& e) {
  return make_sink_error(e.num() == ETERM ? SinkErrorCode::kClosed : SinkErrorCode::kIo,
                         std::string(what) + ": " + e.what());
}

}  // namespace

ZmqPushSink::ZmqPushSink(ZmqPushOptions options)
    : options_(std::move(options)), socket_(context_, zmq::socket_type::push) {}

Result<std::unique_ptr<ZmqPushSink>> ZmqPushSink::open(ZmqPushOptions options) {
  if (options.send_hwm < 1) return make_sink_error(SinkErrorCode::kBadSpec, "zmq sink: send_hwm must be >= 1");
  std::unique_ptr<ZmqPushSink> sink(new ZmqPushSink(std::move(options)));
  const ZmqPushOptions& o = sink->options_;
  try {
    sink->socket_.set(zmq::sockopt::sndhwm, o.send_hwm);
    sink->socket_.set(zmq::sockopt::linger, static_cast<int>(o.linger.count()));
    if (o.bind) {
      sink->socket_.bind(o.endpoint);
    } else {
      sink->socket_.connect(o.endpoint);
    }
    sink->endpoint_ = sink->socket_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_sink_error(SinkErrorCode::kBadSpec, std::string("zmq sink ") + (o.bind ? "bind " : "connect ") +
                                                        o.endpoint + ": " + e.what());
  }
  return sink;
}

ZmqPushSink::~ZmqPushSink() = default;

std::string ZmqPushSink::describe() const { return (options_.bind ? "zmq-bind:" : "zmq:") + endpoint_; }

std::string ZmqPushSink::endpoint() const { return endpoint_; }

Status ZmqPushSink::send_batch(std::string_view task, std::string_view lines, Clock::time_point deadline) {
  try {
    socket_.set(zmq::sockopt::sndtimeo, remaining_ms(deadline));
    auto first = socket_.send(zmq::buffer(task.data(), task.size()), zmq::send_flags::sndmore);
    if (!first) {
      return make_sink_error(SinkErrorCode::kFull, "zmq sink " + endpoint_ + ": high-water mark reached (" +
                                                       std::to_string(options_.send_hwm) + " messages)");
    }
    // The high-water mark is checked on a message's first frame only, so the
    // second frame never waits.
    auto second = socket_.send(zmq::buffer(lines.data(), lines.size()), zmq::send_flags::dontwait);
    if (!second) return make_sink_error(SinkErrorCode::kIo, "zmq sink " + endpoint_ + ": second frame refused");
  } catch (const zmq::error_t& e) {
    return zmq_failure("zmq sink send", e);
  }
  return Status::ok_status();
}

Status ZmqPushSink::append(std::string_view task, std::string_view lines, Clock::time_point deadline) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  if (auto s = check_whole_lines(task, lines); !s.ok()) return s;
  std::lock_guard lock(mu_);
  if (Status failed = failed_.check(task); !failed.ok()) return failed;
  if (lines.empty()) return Status::ok_status();
  Status s = send_batch(task, lines, deadline);
  // kFull took nothing: the task's state is known, so it is not sticky.
  if (!s.ok() && s.error().code == SinkErrorCode::kFull) return s;
  return failed_.record(task, std::move(s));
}

Status ZmqPushSink::make_durable(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  return failed_.check(task);
}

Status ZmqPushSink::close(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  return failed_.clear(task);
}

}  // namespace corral::agent::sink
