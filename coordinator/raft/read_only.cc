#include "coordinator/raft/read_only.h"

#include <utility>

namespace corral::raft {

namespace {
constexpr size_t kRoundContextBytes = 8;
}  // namespace

bool ReadOnly::add(Index index, NodeId from, std::string ctx) {
  if (queue_.size() >= kMaxPendingReadRequests) return false;
  queue_.push_back(PendingRead{last_round_ + 1, index, from, std::move(ctx)});
  unsent_ = true;
  return true;
}

uint64_t ReadOnly::start_round() {
  unsent_ = false;
  return ++last_round_;
}

std::vector<PendingRead> ReadOnly::release_up_to(uint64_t round) {
  std::vector<PendingRead> out;
  while (!queue_.empty() && queue_.front().round <= round) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return out;
}

void ReadOnly::reset() {
  queue_.clear();
  unsent_ = false;
}

std::string ReadOnly::encode_round(uint64_t round) {
  std::string out;
  for (size_t i = 0; i < kRoundContextBytes; ++i) out.push_back(static_cast<char>((round >> (8 * i)) & 0xff));
  return out;
}

std::optional<uint64_t> ReadOnly::decode_round(const std::string& ctx) {
  if (ctx.size() != kRoundContextBytes) return std::nullopt;
  uint64_t round = 0;
  for (size_t i = 0; i < kRoundContextBytes; ++i) {
    round |= static_cast<uint64_t>(static_cast<uint8_t>(ctx[i])) << (8 * i);
  }
  return round;
}

}  // namespace corral::raft
