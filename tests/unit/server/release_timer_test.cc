// The leader's forced release: an assignment is due once it has been
// revoking, unchanged, for a whole timeout; re-marking restarts its clock;
// a due one comes back only after another timeout; leadership lost forgets.
#include <catch2/catch.hpp>

#include "coordinator/server/release_timer.h"

using corral::server::ReleaseTimer;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> keys(const std::vector<ReleaseTimer::Due>& due) {
  std::vector<std::string> out;
  for (const auto& d : due) out.push_back(d.key);
  return out;
}

}  // namespace

TEST_CASE("release timer: due after a whole timeout unchanged, then again after another", "[server][release]") {
  ReleaseTimer timer(1000ms);
  const auto t0 = ReleaseTimer::Clock::time_point{} + 1h;
  std::map<std::string, int64_t> revoking{{"/corral/assign/c1/a/t/1", 10}, {"/corral/assign/c1/a/t/2", 11}};
  CHECK(timer.due(revoking, t0, 10).empty());
  CHECK(timer.due(revoking, t0 + 999ms, 10).empty());
  // Key 2 was marked again (a new mod_revision): its clock starts anew.
  revoking["/corral/assign/c1/a/t/2"] = 12;
  auto due = timer.due(revoking, t0 + 1000ms, 10);
  CHECK(keys(due) == std::vector<std::string>{"/corral/assign/c1/a/t/1"});
  CHECK(due[0].mod_revision == 10);
  CHECK(timer.due(revoking, t0 + 1500ms, 10).empty());
  CHECK(keys(timer.due(revoking, t0 + 2000ms, 10)) ==
        std::vector<std::string>{"/corral/assign/c1/a/t/1", "/corral/assign/c1/a/t/2"});
}

TEST_CASE("release timer: released keys are forgotten, the count is bounded, reset forgets", "[server][release]") {
  ReleaseTimer timer(100ms);
  const auto t0 = ReleaseTimer::Clock::time_point{} + 1h;
  std::map<std::string, int64_t> revoking;
  for (int i = 0; i < 5; ++i) revoking["/corral/assign/c/a/t/" + std::to_string(i)] = i + 1;
  (void)timer.due(revoking, t0, 10);
  CHECK(timer.tracked() == 5);
  revoking.erase("/corral/assign/c/a/t/0");
  revoking.erase("/corral/assign/c/a/t/4");
  CHECK(timer.due(revoking, t0 + 100ms, 2).size() == 2);
  CHECK(timer.tracked() == 3);
  timer.reset();
  CHECK(timer.due(revoking, t0 + 200ms, 10).empty());  // a new leader counts anew
  CHECK(timer.due(revoking, t0 + 300ms, 10).size() == 3);
}
