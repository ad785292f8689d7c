// One line per important event on stderr: leader changes, membership,
// snapshots, errors. printf-style; the line is written with one call so that
// members sharing a terminal do not interleave within a line.
#pragma once

namespace corral::server {

void log_event(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace corral::server
