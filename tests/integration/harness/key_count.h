// How many keys a prefix holds (a count-only range); -1 if the read failed.
#pragma once

#include <cstdint>
#include <string>

#include "client/client.h"

namespace corral::integration {

inline int64_t count_keys(client::Client& c, const std::string& prefix) {
  client::RangeRequest count;
  count.key = prefix;
  count.range_end = client::prefix_range_end(prefix);
  count.count_only = true;
  auto r = c.call(count);
  return r.ok() ? r->count : -1;
}

}  // namespace corral::integration
