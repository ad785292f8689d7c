// corrald's one logger: one line per important event (leader changes,
// membership, snapshots, errors) on stderr, each with its level and the
// member it comes from. printf-style. A background thread writes the lines
// from a bounded queue: a caller (the node loop above all) never blocks on
// stderr; when the queue is full the oldest line is dropped. A line repeated
// from one call site is rate limited (LogRateLimiter).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::server {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn", "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);

// Lines below `level` are not written. May be called again (tests).
void init_logging(LogLevel level);
// The member every later line names: "<name> <id in hex>".
void set_log_member(const std::string& name, uint64_t id);
// Waits (up to 200 ms) until what is queued is written: before a line
// printed around the logger, such as corrald's ready line.
void flush_log();

void log_at(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));
// Shorthands; log_event is info.
void log_debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_event(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace corral::server
