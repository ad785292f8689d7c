#include "coordinator/raft/inflights.h"

#include "coordinator/base/check.h"

namespace corral::raft {

Inflights::Inflights(uint32_t capacity) : capacity_(capacity) { CORRAL_CHECK(capacity_ > 0); }

void Inflights::add(Index last) {
  CORRAL_CHECK_MSG(!full(), "inflight window overflow");
  CORRAL_CHECK(window_.empty() || window_.back() < last);
  window_.push_back(last);
}

void Inflights::free_le(Index to) {
  while (!window_.empty() && window_.front() <= to) window_.pop_front();
}

void Inflights::free_first_one() {
  if (!window_.empty()) window_.pop_front();
}

}  // namespace corral::raft
