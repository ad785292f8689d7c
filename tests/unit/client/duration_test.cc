#include "client/duration.h"

#include <catch2/catch.hpp>

using namespace corral::client;
using std::chrono::microseconds;

TEST_CASE("Go-style durations parse") {
  CHECK(parse_duration("10s").value() == microseconds(10'000'000));
  CHECK(parse_duration("500ms").value() == microseconds(500'000));
  CHECK(parse_duration("1m30s").value() == microseconds(90'000'000));
  CHECK(parse_duration("1.5s").value() == microseconds(1'500'000));
  CHECK(parse_duration("2h").value() == microseconds(int64_t{7200} * 1'000'000));
  CHECK(parse_duration("7").value() == microseconds(7'000'000));
}

TEST_CASE("bad durations are typed errors") {
  for (const char* bad : {"", "s", "10x", "-5s", "1..2s", "abc", "10s5",
                          "99999999999999999999h"}) {
    Result<microseconds> r = parse_duration(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kBadRequest);
  }
}
