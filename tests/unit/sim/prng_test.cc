#include "tests/sim/prng.h"

#include <catch2/catch.hpp>

#include <array>

namespace corral::sim {
namespace {

TEST_CASE("same seed gives the same stream, different seeds differ", "[prng]") {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next();
    CHECK(x == b.next());
    if (x != c.next()) differs = true;
  }
  CHECK(differs);
}

TEST_CASE("below stays in range and covers it", "[prng]") {
  Rng rng(7);
  std::array<int, 10> counts{};
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = rng.below(10);
    REQUIRE(v < 10);
    ++counts[v];
  }
  for (int c : counts) {
    CHECK(c > kDraws / 10 * 9 / 10);
    CHECK(c < kDraws / 10 * 11 / 10);
  }
  CHECK(rng.below(0) == 0);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng.between(3, 5);
    REQUIRE(v >= 3);
    REQUIRE(v <= 5);
  }
}

TEST_CASE("forked streams are deterministic and independent", "[prng]") {
  Rng a(1), b(1);
  Rng fa = a.fork(5), fb = b.fork(5);
  CHECK(fa.next() == fb.next());
  Rng g = a.fork(6);
  CHECK(g.next() != fa.next());
}

}  // namespace
}  // namespace corral::sim
