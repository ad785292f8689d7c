// Measures WatchHub fan-out: W watchers on one prefix spread over S streams,
// then E revisions of one event each through on_commit, every ready stream
// drained after every revision (as the api layer would). Usage: watch_fanout_bench [watchers] [streams] [events]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "coordinator/watch/key_range.h"
#include "coordinator/watch/watch_hub.h"
#include "tests/unit/watch/memory_history.h"

int main(int argc, char** argv) {
  using namespace corral;
  long watchers = argc > 1 ? std::atol(argv[1]) : 10'000;
  long streams = argc > 2 ? std::atol(argv[2]) : 1;
  long events = argc > 3 ? std::atol(argv[3]) : 50;
  if (watchers <= 0 || streams <= 0 || events <= 0 || streams > watchers) {
    std::fprintf(stderr, "usage: %s [watchers>0] [streams in 1..watchers] [events>0]\n", argv[0]);
    return 2;
  }
  watch::testing::MemoryHistory history;
  watch::HubOptions options;
  options.max_watchers_per_stream = static_cast<size_t>(watchers);
  watch::WatchHub hub(history, options);
  std::vector<watch::StreamId> ids;
  for (long s = 0; s < streams; ++s) ids.push_back(*hub.open_stream());
  watch::WatchRequest request;
  request.key = "/corral/agents/";
  request.range_end = watch::prefix_end(request.key);
  for (long w = 0; w < watchers; ++w) {
    if (!hub.create(ids[w % streams], request).ok()) return 1;
  }
  for (auto id : hub.take_ready()) hub.drain(id, static_cast<size_t>(watchers));

  std::vector<kv::RevisionEvents> revisions;
  for (long e = 0; e < events; ++e) {
    revisions.push_back(history.commit({{"/corral/agents/a" + std::to_string(e), "value"}}));
  }
  size_t delivered = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& rev : revisions) {
    hub.on_commit(rev);
    for (auto id : hub.take_ready()) {
      auto out = hub.drain(id, 1024);
      for (const auto& d : *out) delivered += d.watch_ids->size();
    }
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  double us = std::chrono::duration<double, std::micro>(elapsed).count();
  std::printf(
      "{\"watchers\": %ld, \"streams\": %ld, \"events\": %ld, \"watcher_events\": %zu, "
      "\"total_us\": %.1f, \"us_per_event\": %.2f, \"group_matches\": %llu}\n",
      watchers, streams, events, delivered, us, us / events,
      static_cast<unsigned long long>(hub.stats().group_matches));
  return delivered == static_cast<size_t>(watchers * events) ? 0 : 1;
}
