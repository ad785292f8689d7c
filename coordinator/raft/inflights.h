// The window of unacknowledged kAppend messages to one follower, each
// remembered by the last index it carried. Full means: stop sending until an
// acknowledgement frees a slot (flow control in replicate state).
#pragma once

#include <cstdint>
#include <deque>

#include "coordinator/raft/types.h"

namespace corral::raft {

class Inflights {
 public:
  explicit Inflights(uint32_t capacity);

  // Records a message whose last entry is `last`; indexes must increase.
  void add(Index last);
  // An acknowledgement up to `to` frees every message ending at or before it.
  void free_le(Index to);
  void free_first_one();
  void reset() { window_.clear(); }
  bool full() const { return window_.size() >= capacity_; }
  uint32_t count() const { return static_cast<uint32_t>(window_.size()); }
  uint32_t capacity() const { return capacity_; }

 private:
  uint32_t capacity_;
  std::deque<Index> window_;
};

}  // namespace corral::raft
