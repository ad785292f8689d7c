// Keeps one repeated log line from flooding the log: each call site (its
// format string) may write `burst` lines per window; the lines past that are
// counted, and the next line that passes says how many were suppressed.
// Time is given by the caller, so the limiter is testable and clock-free.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

namespace corral::server {

class LogRateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Verdict {
    bool write = false;
    uint64_t suppressed_before = 0;  // lines of this site dropped since its last written one
  };

  LogRateLimiter(int burst, std::chrono::milliseconds window) : burst_(burst), window_(window) {}

  Verdict admit(const void* site, TimePoint now);
  size_t sites() const { return sites_.size(); }

 private:
  struct Site {
    TimePoint window_start{};
    int written = 0;
    uint64_t suppressed = 0;
  };
  // Call sites are format strings in the binary: a fixed, small set. Still
  // bounded, in case a caller passes built strings.
  static constexpr size_t kMaxSites = 4096;

  int burst_;
  std::chrono::milliseconds window_;
  std::map<const void*, Site> sites_;
};

}  // namespace corral::server
