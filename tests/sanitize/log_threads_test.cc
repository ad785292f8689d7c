// corrald's logger (coordinator/server/log.h) from many threads at once, as
// the node loop, the storage writer, the snapshot worker and the password
// worker call it: for TSan (tests/sanitize/CMakeLists.txt), which judges the
// locking between callers, the rate limiter and spdlog's writer thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/server/log.h"

using namespace corral::server;

TEST_CASE("the logger takes lines from many threads while its member and level change", "[server][log][tsan]") {
  init_logging(LogLevel::kWarn);
  constexpr int kThreads = 4;
  constexpr int kLinesEach = 300;
  std::atomic<int> logged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &logged] {
      for (int i = 0; i < kLinesEach; ++i) {
        // One repeated call site (rate limited) and lines from each thread.
        log_warn("log_threads_test: a repeated line");
        log_at(LogLevel::kDebug, "log_threads_test: thread %d line %d (below the level)", t, i);
        if (i % 50 == 0) log_error("log_threads_test: thread %d line %d", t, i);
        logged.fetch_add(1);
      }
    });
  }
  // Meanwhile the member's name and the level change, and the log is flushed.
  for (int i = 0; i < 20; ++i) {
    set_log_member("member-" + std::to_string(i), static_cast<uint64_t>(i));
    init_logging(i % 2 == 0 ? LogLevel::kError : LogLevel::kWarn);
    flush_log();
  }
  for (auto& th : threads) th.join();
  flush_log();
  CHECK(logged.load() == kThreads * kLinesEach);
  init_logging(LogLevel::kInfo);
}
