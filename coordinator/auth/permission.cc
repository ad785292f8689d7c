#include "coordinator/auth/permission.h"

#include <algorithm>

namespace corral::auth {

KeyInterval interval_of(std::string_view key, std::string_view range_end) {
  KeyInterval out;
  if (range_end.empty()) {
    out.begin = std::string(key);
    out.end = std::string(key) + '\0';
  } else if (range_end == std::string_view("\0", 1)) {
    // Key "" and key "\0" both start at the first key there is.
    out.begin = key == std::string_view("\0", 1) ? std::string() : std::string(key);
  } else {
    out.begin = std::string(key);
    out.end = std::string(range_end);
  }
  return out;
}

bool covers(const std::vector<const Permission*>& perms, std::string_view key,
            std::string_view range_end, Access access) {
  std::vector<KeyInterval> granted;
  for (const auto* p : perms) {
    if (p->grants(access)) granted.push_back(interval_of(p->key, p->range_end));
  }
  std::sort(granted.begin(), granted.end(),
            [](const KeyInterval& a, const KeyInterval& b) { return a.begin < b.begin; });
  KeyInterval want = interval_of(key, range_end);
  // Walk the granted intervals in order, extending how far from want.begin
  // is covered without a gap.
  std::string reached = want.begin;
  for (const auto& g : granted) {
    if (g.begin > reached) break;  // a gap before this interval
    if (!g.end) return true;
    if (*g.end > reached) reached = *g.end;
    if (want.end && reached >= *want.end) return true;
  }
  return want.end && reached >= *want.end;
}

}  // namespace corral::auth
