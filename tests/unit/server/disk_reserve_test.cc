// DiskReserve (disk_reserve.h): the three levels around the reserve and its
// floor, how often it looks, and that a failed look keeps the last level.
#include <catch2/catch.hpp>

#include "coordinator/server/disk_reserve.h"

using namespace corral::server;
using Level = DiskReserve::Level;
using namespace std::chrono_literals;

TEST_CASE("disk reserve: fine, low below the reserve, critical below half of it", "[server][disk]") {
  std::optional<uint64_t> free = 100;
  int looks = 0;
  DiskReserve r("/nowhere", 40, [&] {
    ++looks;
    return free;
  });
  auto t = DiskReserve::Clock::now();
  CHECK(r.floor_bytes() == 20);
  CHECK(r.look(t) == Level::kFine);
  CHECK(r.free_bytes() == 100);
  // Far from the reserve (at least twice it): once a second.
  free = 39;
  CHECK(r.look(t + 500ms) == Level::kFine);
  CHECK(looks == 1);
  CHECK(r.look(t + 1000ms) == Level::kLow);
  CHECK(r.was_low());
  CHECK_FALSE(r.was_critical());
  // Near it: every 20 ms.
  free = 19;
  CHECK(r.look(t + 1010ms) == Level::kLow);
  CHECK(r.look(t + 1020ms) == Level::kCritical);
  CHECK(r.was_critical());
  CHECK(looks == 3);
  // A failed look keeps the last level.
  free = std::nullopt;
  CHECK(r.look(t + 1040ms) == Level::kCritical);
  free = 20;
  CHECK(r.look(t + 2040ms) == Level::kLow);
  free = 40;
  CHECK(r.look(t + 2060ms) == Level::kFine);
  CHECK_FALSE(r.was_low());
}

TEST_CASE("disk reserve 0: never low", "[server][disk]") {
  int looks = 0;
  DiskReserve r("/nowhere", 0, [&] {
    ++looks;
    return std::optional<uint64_t>(0);
  });
  CHECK(r.look(DiskReserve::Clock::now()) == Level::kFine);
  CHECK(looks == 0);
}

TEST_CASE("disk reserve of the real file system: a directory that does not exist keeps fine", "[server][disk]") {
  DiskReserve r("/nonexistent/corral-disk-reserve-test", 1);
  CHECK(r.look(DiskReserve::Clock::now()) == Level::kFine);
  DiskReserve here("/", 1);
  CHECK(here.look(DiskReserve::Clock::now()) == Level::kFine);
  CHECK(here.free_bytes() > 0);
}
