#include "coordinator/server/log.h"

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace corral::server {

namespace {
constexpr size_t kMaxLogLineBytes = 1024;
}

void log_event(const char* format, ...) {
  char body[kMaxLogLineBytes];
  va_list args;
  va_start(args, format);
  std::vsnprintf(body, sizeof(body), format, args);
  va_end(args);
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char line[kMaxLogLineBytes + 64];
  std::snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ corrald: %s\n", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms), body);
  std::fputs(line, stderr);
}

}  // namespace corral::server
