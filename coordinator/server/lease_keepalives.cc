#include "coordinator/server/lease_keepalives.h"

#include <algorithm>
#include <iterator>

#include "coordinator/base/check.h"

namespace corral::server {
namespace {

template <typename From, typename To>
void move_all(From& from, To& to) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  from.clear();
}

}  // namespace

bool LeaseKeepAlives::add(WaitingKeepAlive k) {
  if (size_ >= kMaxWaitingKeepAlives) return false;
  note_deadline(k.deadline);
  unsent_.push_back(std::move(k));
  ++size_;
  return true;
}

bool LeaseKeepAlives::add_all(std::vector<WaitingKeepAlive> ks) {
  if (ks.size() > kMaxWaitingKeepAlives - size_) return false;
  for (const auto& k : ks) note_deadline(k.deadline);
  size_ += ks.size();
  move_all(ks, unsent_);
  return true;
}

void LeaseKeepAlives::start_round(uint64_t ctx) {
  CORRAL_CHECK(!confirming_.contains(ctx));
  confirming_[ctx] = std::move(unsent_);
  unsent_.clear();
}

bool LeaseKeepAlives::confirm(uint64_t ctx) {
  auto it = confirming_.find(ctx);
  if (it == confirming_.end()) return false;
  move_all(it->second, confirmed_);
  confirming_.erase(it);
  return true;
}

std::vector<WaitingKeepAlive> LeaseKeepAlives::take_confirmed(size_t max_count) {
  const auto n = static_cast<std::ptrdiff_t>(std::min(max_count, confirmed_.size()));
  std::vector<WaitingKeepAlive> out(std::make_move_iterator(confirmed_.begin()),
                                    std::make_move_iterator(confirmed_.begin() + n));
  confirmed_.erase(confirmed_.begin(), confirmed_.begin() + n);
  CORRAL_CHECK(size_ >= out.size());
  size_ -= out.size();
  return out;
}

void LeaseKeepAlives::wait_for_reset(uint64_t sequence, std::vector<WaitingKeepAlive> keepalives) {
  size_ += keepalives.size();
  for (const auto& k : keepalives) note_deadline(k.deadline);
  move_all(keepalives, resetting_[sequence]);
}

std::vector<WaitingKeepAlive> LeaseKeepAlives::take_reset(uint64_t applied_sequence) {
  std::vector<WaitingKeepAlive> out;
  while (!resetting_.empty() && resetting_.begin()->first <= applied_sequence) {
    move_all(resetting_.begin()->second, out);
    resetting_.erase(resetting_.begin());
  }
  CORRAL_CHECK(size_ >= out.size());
  size_ -= out.size();
  return out;
}

// One pass per list (erasing one by one was quadratic when a whole batch
// of 10k timed out); notes the earliest deadline still waiting.
void LeaseKeepAlives::take_expired_from(Batches& batches, std::chrono::steady_clock::time_point now,
                                        std::vector<WaitingKeepAlive>& out) {
  for (auto it = batches.begin(); it != batches.end();) {
    auto& list = it->second;
    auto kept = list.begin();
    for (auto& k : list) {
      if (k.deadline > now) {
        note_deadline(k.deadline);
        if (&*kept != &k) *kept = std::move(k);
        ++kept;
      } else {
        out.push_back(std::move(k));
      }
    }
    list.erase(kept, list.end());
    it = list.empty() ? batches.erase(it) : std::next(it);
  }
}

std::vector<WaitingKeepAlive> LeaseKeepAlives::take_expired(std::chrono::steady_clock::time_point now) {
  std::vector<WaitingKeepAlive> out;
  if (now < next_deadline_) return out;
  next_deadline_ = std::chrono::steady_clock::time_point::max();
  for (const auto& k : unsent_) note_deadline(k.deadline);
  for (const auto& k : confirmed_) note_deadline(k.deadline);
  take_expired_from(confirming_, now, out);
  take_expired_from(resetting_, now, out);
  CORRAL_CHECK(size_ >= out.size());
  size_ -= out.size();
  return out;
}

std::vector<WaitingKeepAlive> LeaseKeepAlives::take_all() {
  std::vector<WaitingKeepAlive> out;
  move_all(unsent_, out);
  for (auto& [ctx, list] : confirming_) move_all(list, out);
  move_all(confirmed_, out);
  for (auto& [seq, list] : resetting_) move_all(list, out);
  confirming_.clear();
  resetting_.clear();
  size_ = 0;
  return out;
}

}  // namespace corral::server
