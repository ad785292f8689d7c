// Permissions on keys with etcd's range conventions (kv/key_range.h): a
// permission grants read, write or both on one key, a range [key, rangeEnd)
// or every key from `key` on. A request's range is allowed when the union
// of the user's permissions of that access covers it whole, as etcd merges
// a user's ranges.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::auth {

enum class Access { kRead, kWrite };

struct Permission {
  bool read = false;
  bool write = false;
  std::string key;
  std::string range_end;  // "": the key alone; "\0": every key >= key

  bool grants(Access a) const { return a == Access::kRead ? read : write; }
  bool same_range(const Permission& o) const { return key == o.key && range_end == o.range_end; }
};

// The half-open interval of keys a (key, range_end) names; `end` nullopt is
// unbounded. A single key k is [k, k + "\0").
struct KeyInterval {
  std::string begin;
  std::optional<std::string> end;
};
KeyInterval interval_of(std::string_view key, std::string_view range_end);

// Whether the permissions granting `access` cover every key of (key, range_end).
bool covers(const std::vector<const Permission*>& perms, std::string_view key,
            std::string_view range_end, Access access);

}  // namespace corral::auth
