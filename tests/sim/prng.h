// The simulator's only source of randomness: xoshiro256** seeded through
// splitmix64 from one 64-bit seed. Never std::random_device, never time: the
// same seed must give the same run, byte for byte, on every machine.
#pragma once

#include <cstdint>

namespace corral::sim {

// splitmix64 step: spreads a seed (even 0 or a small integer) over 64 bits.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& word : s_) word = splitmix64(sm);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n == 0 gives 0. Lemire's multiply-shift: the bias is
  // at most n/2^64, irrelevant here, and the result is deterministic.
  uint64_t below(uint64_t n) {
    if (n == 0) return 0;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

  // Uniform in [lo, hi] (inclusive); requires lo <= hi.
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

  // True with probability per_mille / 1000.
  bool chance_per_mille(uint64_t per_mille) { return below(1000) < per_mille; }

  // An independent generator for one sub-stream (a node's raft RNG, a
  // client), so that adding draws in one place does not shift every other.
  Rng fork(uint64_t stream) {
    uint64_t sm = next() ^ (stream * 0xd1342543de82ef95ULL);
    return Rng(splitmix64(sm));
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace corral::sim
