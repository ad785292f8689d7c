#include "tests/sim/history.h"

#include "coordinator/base/check.h"

namespace corral::sim {

std::string describe(const Operation& op) {
  std::string s = "op#" + std::to_string(op.id) + " client " + std::to_string(op.client) + " ";
  s += op.kind == OpKind::kPut ? "put(" + op.key + ", " + op.value + ")"
                               : "get(" + op.key + ") -> '" + op.value + "'" +
                                     (op.version ? " version " + std::to_string(*op.version) : "");
  s += " ticks [" + std::to_string(op.call_tick) + ", ";
  s += op.unknown() ? std::string("unknown outcome") : std::to_string(op.ret_tick);
  return s + "]";
}

uint64_t History::invoke(uint64_t client, OpKind kind, std::string key, std::string value,
                         uint64_t tick) {
  Operation op;
  op.id = ops_.size();
  op.client = client;
  op.kind = kind;
  op.key = std::move(key);
  op.value = std::move(value);
  op.call = next_event_++;
  op.call_tick = tick;
  ops_.push_back(std::move(op));
  state_.push_back(State::kPending);
  return ops_.back().id;
}

void History::complete(uint64_t id, uint64_t tick, const std::string& observed,
                       std::optional<uint64_t> observed_version) {
  CORRAL_CHECK(id < ops_.size() && state_[id] == State::kPending);
  Operation& op = ops_[id];
  op.ret = next_event_++;
  op.ret_tick = tick;
  if (op.kind == OpKind::kGet) {
    op.value = observed;
    op.version = observed_version;
  }
  state_[id] = State::kCompleted;
}

void History::abandon(uint64_t id) {
  CORRAL_CHECK(id < ops_.size() && state_[id] == State::kPending);
  state_[id] = State::kAbandoned;
}

void History::discard(uint64_t id) {
  CORRAL_CHECK(id < ops_.size() && state_[id] == State::kPending);
  state_[id] = State::kDiscarded;
}

std::vector<Operation> History::operations() const {
  std::vector<Operation> out;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const bool keep = state_[i] == State::kCompleted ||
                      (ops_[i].kind == OpKind::kPut &&
                       (state_[i] == State::kAbandoned || state_[i] == State::kPending));
    if (keep) out.push_back(ops_[i]);
  }
  return out;
}

}  // namespace corral::sim
