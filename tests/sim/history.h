// The client history: one record per operation, with its invocation and
// completion times. Times are positions in one global event sequence (strictly
// increasing, so real-time order is exact); ticks are kept for the reader.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace corral::sim {

// kCas: compare-and-swap, `value` written only if the key holds `expected`
// (a txn comparing the value); `succeeded` says which branch ran.
enum class OpKind : uint8_t { kPut, kGet, kCas };

// Return time of an operation whose outcome is unknown (a put that timed out
// or whose node crashed): it may take effect at any time after its call, or
// never.
inline constexpr uint64_t kNeverReturned = std::numeric_limits<uint64_t>::max();

struct Operation {
  uint64_t id = 0;
  uint64_t client = 0;
  OpKind kind = OpKind::kPut;
  std::string key;
  std::string value;  // put: the value written; get: the value observed ("" = absent)
  // get: the key's version observed (puts applied to it), when the reader
  // reports one; a put applied twice shows as a version too high.
  std::optional<uint64_t> version;
  // cas: the value compared against, and whether the swap happened (unset
  // while the outcome is unknown: it may have happened either way, or never).
  std::string expected;
  std::optional<bool> succeeded;
  uint64_t call = 0;
  uint64_t ret = kNeverReturned;
  uint64_t call_tick = 0;
  uint64_t ret_tick = 0;

  bool unknown() const { return ret == kNeverReturned; }
};

std::string describe(const Operation& op);

class History {
 public:
  // Records an invocation; returns the operation's id.
  uint64_t invoke(uint64_t client, OpKind kind, std::string key, std::string value, uint64_t tick);
  uint64_t invoke_cas(uint64_t client, std::string key, std::string expected, std::string value, uint64_t tick);
  // The operation completed; for a get, `observed` is the value read and
  // `observed_version` the key's version.
  void complete(uint64_t id, uint64_t tick, const std::string& observed,
                std::optional<uint64_t> observed_version = std::nullopt);
  // A cas completed; `succeeded` is whether it swapped.
  void complete_cas(uint64_t id, uint64_t tick, bool succeeded);
  // No answer will come. A put keeps an unknown outcome; a get is dropped,
  // since a read nobody saw has no effect.
  void abandon(uint64_t id);
  // The operation certainly never took effect (refused before entering any
  // log): it is dropped.
  void discard(uint64_t id);

  // The operations to check: completed ones, and writes of unknown outcome
  // (including any still pending).
  std::vector<Operation> operations() const;
  const Operation& op(uint64_t id) const { return ops_[id]; }
  bool completed(uint64_t id) const { return state_[id] == State::kCompleted; }
  size_t size() const { return ops_.size(); }

 private:
  enum class State : uint8_t { kPending, kCompleted, kAbandoned, kDiscarded };
  uint64_t next_event_ = 1;
  std::vector<Operation> ops_;  // indexed by id
  std::vector<State> state_;
};

}  // namespace corral::sim
