#include "coordinator/watch/key_range.h"

namespace corral::watch {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

bool in_range(std::string_view k, std::string_view key, std::string_view range_end) {
  if (range_end.empty()) return k == key;
  if (k < key) return false;
  return is_unbounded(range_end) || k < range_end;
}

}  // namespace corral::watch
