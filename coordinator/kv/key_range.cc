#include "coordinator/kv/key_range.h"

#include "coordinator/kv/limits.h"

namespace corral::kv {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<uint8_t>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(kRangeEndAll);
}

Status validate_key(std::string_view key) {
  if (key.empty()) return make_error(ErrorCode::kBadRequest, "key is empty");
  if (key.size() > kMaxKeyBytes) {
    return make_error(ErrorCode::kTooLarge, "key is " + std::to_string(key.size()) +
                                                " bytes, the limit is " + std::to_string(kMaxKeyBytes));
  }
  return {};
}

Result<KeyRange> KeyRange::make(std::string_view key, std::string_view range_end) {
  // "" with "\0" is every key (as watch spells it); otherwise a key is needed.
  bool every_key = key.empty() && range_end == kRangeEndAll;
  if (!every_key) {
    if (auto st = validate_key(key); !st.ok()) return st.error();
  }
  if (range_end.size() > kMaxKeyBytes) {
    return make_error(ErrorCode::kTooLarge, "range_end is " + std::to_string(range_end.size()) +
                                                " bytes, the limit is " + std::to_string(kMaxKeyBytes));
  }
  KeyRange r;
  r.key_ = std::string(key);
  if (range_end.empty()) {
    r.single_ = true;
  } else if (range_end == kRangeEndAll) {
    r.unbounded_ = true;
  } else {
    if (range_end < key) return make_error(ErrorCode::kBadRequest, "range_end sorts before key");
    r.end_ = std::string(range_end);
  }
  return r;
}

bool KeyRange::contains(std::string_view k) const {
  if (single_) return k == key_;
  if (k < key_) return false;
  return unbounded_ || k < end_;
}

bool KeyRange::past_end(std::string_view k) const {
  if (single_) return k > key_;
  return !unbounded_ && k >= end_;
}

}  // namespace corral::kv
