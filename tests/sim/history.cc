#include "tests/sim/history.h"

#include "coordinator/base/check.h"

namespace corral::sim {

std::string describe(const Operation& op) {
  std::string s = "op#" + std::to_string(op.id) + " client " + std::to_string(op.client) + " ";
  switch (op.kind) {
    case OpKind::kPut: s += "put(" + op.key + ", " + op.value + ")"; break;
    case OpKind::kGet:
      s += "get(" + op.key + ") -> '" + op.value + "'" + (op.version ? " version " + std::to_string(*op.version) : "");
      break;
    case OpKind::kCas:
      s += "cas(" + op.key + ", '" + op.expected + "' -> '" + op.value + "')" +
           (op.succeeded ? (*op.succeeded ? " swapped" : " compare failed") : "");
      break;
  }
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

uint64_t History::invoke_cas(uint64_t client, std::string key, std::string expected, std::string value,
                             uint64_t tick) {
  const uint64_t id = invoke(client, OpKind::kCas, std::move(key), std::move(value), tick);
  ops_[id].expected = std::move(expected);
  return id;
}

void History::complete_cas(uint64_t id, uint64_t tick, bool succeeded) {
  CORRAL_CHECK(id < ops_.size() && ops_[id].kind == OpKind::kCas);
  complete(id, tick, "");
  ops_[id].succeeded = succeeded;
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
                      (ops_[i].kind != OpKind::kGet &&
                       (state_[i] == State::kAbandoned || state_[i] == State::kPending));
    if (keep) out.push_back(ops_[i]);
  }
  return out;
}

}  // namespace corral::sim
