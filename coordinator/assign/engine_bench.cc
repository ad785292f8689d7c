// assign_bench: the assignment engine at scale. Places 100k streams over 1k
// collectors (capacities 1, 2 and 4, three zones), then times one collector
// leaving, one joining, one stream added and removed, and one drain, each a
// revision of its own (the calls plus finish()), each kind repeated and the
// median reported. Prints one JSON line: microseconds per revision and the
// number of assignment changes it produced. Times are the thread's CPU time,
// not wall time: the benchmark shares its machine with builds, and CPU time
// leaves out the time spent preempted.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <string>
#include <vector>

#include "coordinator/assign/engine.h"
#include "coordinator/base/check.h"

namespace {

using corral::assign::AssignmentChange;
using corral::assign::CollectorSpec;
using corral::assign::Engine;

constexpr int kStreams = 100000;
constexpr int kCollectors = 1000;
constexpr int kZones = 3;
constexpr int64_t kCapacities[] = {1, 2, 4};

std::string zone_of(int i) { return std::string("zone-") + static_cast<char>('a' + i % kZones); }

std::string collector_id(int i) { return "collector-" + std::to_string(i); }

std::string stream_id(int i) {
  return "app-" + std::to_string(i % 50) + "/topic/10.1." + std::to_string(i / 256) + "." +
         std::to_string(i % 256);
}

constexpr int kRepeats = 7;  // per operation kind; the median is reported

struct Timed {
  double micros = 0;
  size_t changes = 0;
};

// Runs `calls` then finish() as one revision; checks the invariants outside
// the timed part.
double cpu_micros() {
  timespec now{};
  CORRAL_CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

template <typename Calls>
Timed revision(Engine& engine, Calls&& calls) {
  const double start = cpu_micros();
  calls();
  const std::vector<AssignmentChange> changes = engine.finish();
  const double elapsed = cpu_micros() - start;
  CORRAL_CHECK_MSG(engine.check_invariants().empty(), engine.check_invariants().c_str());
  return Timed{elapsed, changes.size()};
}

// The median of kRepeats revisions, `calls(k)` for k = 0..kRepeats-1. One
// run alone is noisy: the first allocations after the bulk placement's frees
// pay for the allocator sorting its free lists (tens of milliseconds).
template <typename Calls>
Timed median_of(Engine& engine, Calls&& calls) {
  std::vector<Timed> runs;
  for (int k = 0; k < kRepeats; ++k) runs.push_back(revision(engine, [&] { calls(k); }));
  std::sort(runs.begin(), runs.end(), [](const Timed& a, const Timed& b) { return a.micros < b.micros; });
  return runs[kRepeats / 2];
}

}  // namespace

int main() {
  Engine engine;
  const Timed place = revision(engine, [&] {
    for (int i = 0; i < kCollectors; ++i) {
      engine.upsert_collector(collector_id(i), CollectorSpec{kCapacities[i % 3], zone_of(i)});
    }
    for (int i = 0; i < kStreams; ++i) engine.upsert_stream(stream_id(i), zone_of(i / 7));
  });
  // Collectors 3k + 2 have capacity 4 (about 171 tasks), the others 1 or 2.
  const Timed leave = median_of(engine, [&](int k) { engine.remove_collector(collector_id(3 * k + 2)); });
  const Timed join = median_of(engine, [&](int k) {
    engine.upsert_collector(collector_id(kCollectors + k), CollectorSpec{4, zone_of(k)});
  });
  const Timed add = median_of(engine, [&](int k) {
    engine.upsert_stream("new/topic/10.9.9." + std::to_string(k), zone_of(k));
  });
  const Timed remove = median_of(engine, [&](int k) {
    engine.remove_stream("new/topic/10.9.9." + std::to_string(k));
  });
  const Timed drain = median_of(engine, [&](int k) { engine.set_draining(collector_id(3 * k + 101), true); });
  std::printf(
      "{\"streams\":%d,\"collectors\":%d,\"repeats\":%d,\"place_all_us\":%.0f,"
      "\"place_us_per_stream\":%.2f,\"leave_us\":%.0f,\"leave_moved\":%zu,\"join_us\":%.0f,"
      "\"join_moved\":%zu,\"add_stream_us\":%.1f,\"add_stream_changes\":%zu,"
      "\"remove_stream_us\":%.0f,\"remove_stream_changes\":%zu,\"drain_us\":%.0f,"
      "\"drain_moved\":%zu}\n",
      kStreams, kCollectors, kRepeats, place.micros, place.micros / kStreams, leave.micros,
      leave.changes, join.micros, join.changes, add.micros, add.changes, remove.micros,
      remove.changes, drain.micros, drain.changes);
  return 0;
}
