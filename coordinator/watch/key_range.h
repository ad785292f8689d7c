// etcd's key range rules, shared by watch matching and its callers.
// A range is [key, range_end): an empty range_end means the single key,
// "\0" means every key >= key, and range_end == prefix_end(p) with key == p
// is the prefix p (key "" with "\0" is every key).
#pragma once

#include <string>
#include <string_view>

namespace corral::watch {

// The smallest key greater than every key starting with `prefix`: the
// prefix with its last byte below 0xff incremented and the rest dropped;
// "\0" (no upper bound) when there is no such byte.
std::string prefix_end(std::string_view prefix);

// Whether `k` lies in [key, range_end) under the rules above.
bool in_range(std::string_view k, std::string_view key, std::string_view range_end);

// Whether range_end marks "no upper bound".
inline bool is_unbounded(std::string_view range_end) {
  return range_end.size() == 1 && range_end[0] == '\0';
}

}  // namespace corral::watch
