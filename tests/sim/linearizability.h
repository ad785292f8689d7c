// Linearizability checker for a key-value history (put / get / cas), in the style
// of Wing & Gong with Lowe's memoization, as Porcupine does it:
//  - P-compositionality: a history is linearizable iff each key's
//    sub-history is, so every key is checked on its own;
//  - a depth-first search over which pending operation takes effect next,
//    remembering every (set of linearized operations, register value and
//    version) already explored so no configuration is searched twice.
// A cas swaps only when the register holds the value it compares against.
// The register counts the writes that took effect (its version); a get that
// reports the version it saw must match it, so a put applied twice is seen.
// Operations of unknown outcome return at "infinity": they may take effect at
// any point after their call (or, for a put, at the very end: never observed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/history.h"

namespace corral::sim {

// Search steps allowed per key before giving up (a result, not a crash).
inline constexpr uint64_t kDefaultMaxSearchStepsPerKey = 5'000'000;

struct LinearizabilityResult {
  bool ok = true;
  bool exhausted = false;  // search bound hit: neither proven nor refuted
  std::string key;         // the key whose sub-history failed
  std::string detail;      // the operation that could not be linearized
  uint64_t ops_checked = 0;
};

LinearizabilityResult check_linearizable(const std::vector<Operation>& ops,
                                         uint64_t max_steps_per_key = kDefaultMaxSearchStepsPerKey);

}  // namespace corral::sim
