#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/metrics/registry.h"

using namespace corral::metrics;

TEST_CASE("several threads updating while another renders lose no update") {
  Registry r;
  auto& c = r.counter("c_total", "");
  auto& g = r.gauge("g", "");
  auto& h = r.histogram("h_seconds", "", {0.5});
  auto& fam = r.counter_family("f_total", "", {"thread"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    // Every scrape seen mid-update must still be consistent: +Inf == count.
    for (int i = 0; i < 10'000 && !done.load(); ++i) {
      auto s = h.snapshot();
      REQUIRE(s.cumulative.front() <= s.cumulative.back());
      (void)r.render();
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      auto& mine = fam.with({std::to_string(t)});
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        g.add(1);
        h.observe(i % 2 ? 0.25 : 1.0);
        mine.inc();
        fam.with({"shared"}).inc();
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  CHECK(c.value() == uint64_t{kThreads} * kPerThread);
  CHECK(g.value() == double{kThreads} * kPerThread);
  auto s = h.snapshot();
  CHECK(s.count() == uint64_t{kThreads} * kPerThread);
  CHECK(s.cumulative[0] == uint64_t{kThreads} * kPerThread / 2);
  CHECK(s.sum == Approx(kThreads * (kPerThread / 2) * 1.25));
  CHECK(fam.with({"shared"}).value() == uint64_t{kThreads} * kPerThread);
  for (int t = 0; t < kThreads; ++t) CHECK(fam.with({std::to_string(t)}).value() == uint64_t{kPerThread});
}
