// Key ranges with etcd's range_end conventions:
//   range_end == ""    the single key `key`
//   range_end == "\0"  every key >= key (key "\0" or "": every key)
//   otherwise          [key, range_end); range_end < key is a bad request
#pragma once

#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::kv {

inline constexpr std::string_view kRangeEndAll{"\0", 1};

// The range_end that selects every key starting with `prefix`: the prefix
// with its last byte below 0xff incremented and the rest dropped; "\0" (all
// keys) when there is no such byte.
std::string prefix_end(std::string_view prefix);

class KeyRange {
 public:
  // Validates key (non-empty unless range_end is "\0", bounded) and range_end (bounded, not below key).
  static Result<KeyRange> make(std::string_view key, std::string_view range_end);

  const std::string& begin() const { return key_; }
  bool single() const { return single_; }
  bool unbounded() const { return unbounded_; }
  const std::string& end() const { return end_; }  // exclusive; meaningful unless single or unbounded
  bool contains(std::string_view k) const;
  // True once `k` (visited in order) is past every key of the range.
  bool past_end(std::string_view k) const;

 private:
  std::string key_;
  std::string end_;
  bool single_ = false;
  bool unbounded_ = false;
};

// Non-empty and within kMaxKeyBytes.
Status validate_key(std::string_view key);

}  // namespace corral::kv
