// Not built by CMake; the command is in bench/RESULTS.md (s21-leases).
// One-off: cost of moving a lease's checkpoint due time, 100k leases, each
// kept alive every 3.3 s (30k moves a second), simulated for 60 s: the lazy
// heap (CheckpointSchedule) vs an ordered set re-keyed on each move.
#include <ctime>
#include <cstdio>
#include <set>
#include <unordered_map>
#include "coordinator/lease/checkpoint_schedule.h"
using namespace corral::lease;
struct SetSchedule {
  std::set<std::pair<Millis, LeaseId>> by; std::unordered_map<LeaseId, Millis> due;
  void set(LeaseId id, Millis d) { auto [it, ins] = due.try_emplace(id, d); if (!ins) { by.erase({it->second, id}); it->second = d; } by.emplace(d, id); }
  std::vector<LeaseId> pop_due(Millis now, size_t max) { std::vector<LeaseId> out; while (out.size() < max && !by.empty() && by.begin()->first <= now) { out.push_back(by.begin()->second); due.erase(by.begin()->second); by.erase(by.begin()); } return out; }
};
template <typename S> double run(const char* name) {
  S s; const LeaseId n = 100000; size_t popped = 0;
  for (LeaseId id = 1; id <= n; ++id) s.set(id, 5000 + id % 3333);
  std::clock_t c0 = std::clock(); long moves = 0;
  for (Millis now = 0; now < 60000; now += 10) {        // 10 ms turns
    for (LeaseId id = 1 + (now / 10) % 333; id <= n; id += 333) { s.set(id, now + 5000); ++moves; }  // each lease every 3.33 s
    if (now % 100 == 0) popped += s.pop_due(now, 1000).size();
  }
  double us = double(std::clock() - c0) / CLOCKS_PER_SEC * 1e6 / moves;
  std::printf("%s: %ld moves, %.3f us CPU per move (pops included), %zu popped\n", name, moves, us, popped);
  return us;
}
int main() { run<CheckpointSchedule>("lazy heap"); run<SetSchedule>("ordered set"); run<CheckpointSchedule>("lazy heap"); run<SetSchedule>("ordered set"); }
