#include "coordinator/server/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <thread>

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "coordinator/server/log_rate_limiter.h"

namespace corral::server {

namespace {

constexpr size_t kMaxLogLineBytes = 1024;
// Lines queued for the writer thread: with lines cut at kMaxLogLineBytes,
// about 4 MiB at most.
constexpr size_t kLogQueueLines = 4096;
constexpr int kRepeatBurst = 20;
constexpr std::chrono::milliseconds kFlushWait{200};
constexpr std::chrono::milliseconds kRepeatWindow{10'000};

struct Logger {
  std::mutex mu;  // guards limiter and member; spdlog's logger is thread-safe
  LogRateLimiter limiter{kRepeatBurst, kRepeatWindow};
  std::string member = "-";
  std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
};

Logger& logger() {
  static Logger* l = new Logger();  // never destroyed: threads may log at exit
  return *l;
}

spdlog::level::level_enum spd_level(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> make_sink() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> made;
  std::call_once(once, [] {
    spdlog::init_thread_pool(kLogQueueLines, 1);
    made = spdlog::create_async_nb<spdlog::sinks::stderr_sink_mt>("corrald");
    // UTC, to the millisecond, then level, member and message.
    made->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l corrald %v", spdlog::pattern_time_type::utc);
    made->flush_on(spdlog::level::warn);
  });
  return made;
}

void vlog(LogLevel level, const char* format, va_list args) {
  Logger& l = logger();
  if (static_cast<int>(level) < l.level.load(std::memory_order_relaxed)) return;
  char body[kMaxLogLineBytes];
  std::vsnprintf(body, sizeof(body), format, args);
  std::string member;
  LogRateLimiter::Verdict v;
  {
    std::lock_guard<std::mutex> lock(l.mu);
    v = l.limiter.admit(format, std::chrono::steady_clock::now());
    member = l.member;
  }
  if (!v.write) return;
  auto sink = make_sink();
  if (v.suppressed_before > 0) {
    sink->log(spd_level(level), "[{}] {} ({} similar lines suppressed)", member, body, v.suppressed_before);
  } else {
    sink->log(spd_level(level), "[{}] {}", member, body);
  }
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

void init_logging(LogLevel level) {
  make_sink()->set_level(spd_level(level));
  logger().level.store(static_cast<int>(level));
}

void set_log_member(const std::string& name, uint64_t id) {
  char text[160];
  std::snprintf(text, sizeof(text), "%s %016llx", name.c_str(), static_cast<unsigned long long>(id));
  std::lock_guard<std::mutex> lock(logger().mu);
  logger().member = text;
}

void flush_log() {
  make_sink()->flush();
  // The writer thread takes the queue in order: once it is empty, every line
  // queued before this call is out. Bounded, so a stuck stderr cannot hang
  // the caller.
  const auto deadline = std::chrono::steady_clock::now() + kFlushWait;
  while (spdlog::thread_pool()->queue_size() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void log_at(LogLevel level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlog(level, format, args);
  va_end(args);
}

#define CORRAL_LOG_SHORTHAND(name, level)  \
  void name(const char* format, ...) {     \
    va_list args;                          \
    va_start(args, format);                \
    vlog(level, format, args);             \
    va_end(args);                          \
  }
CORRAL_LOG_SHORTHAND(log_debug, LogLevel::kDebug)
CORRAL_LOG_SHORTHAND(log_event, LogLevel::kInfo)
CORRAL_LOG_SHORTHAND(log_warn, LogLevel::kWarn)
CORRAL_LOG_SHORTHAND(log_error, LogLevel::kError)
#undef CORRAL_LOG_SHORTHAND

}  // namespace corral::server
