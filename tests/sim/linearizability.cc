#include "tests/sim/linearizability.h"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace corral::sim {
namespace {

// The register: its value and how many puts took effect on it.
struct Register {
  std::string value;  // "" = absent
  uint64_t version = 0;
  bool operator==(const Register&) const = default;
};

// One configuration of the search: which operations are linearized, and the
// register after them.
struct CacheKey {
  std::vector<uint64_t> bits;
  Register reg;
  bool operator==(const CacheKey&) const = default;
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const {
    uint64_t h = std::hash<std::string>()(k.reg.value) ^ (k.reg.version * 0x9e3779b97f4a7c15ULL);
    for (uint64_t w : k.bits) h = (h ^ w) * 0x100000001b3ULL;
    return static_cast<size_t>(h);
  }
};

// The register model. Returns whether `op` may take effect in `state`, and
// updates `state` if so.
// A get that reports a version must see exactly as many puts as were
// linearized before it: one put taking effect twice cannot be explained.
// A cas swaps exactly when the register holds its expected value; one whose
// outcome is known must agree with that, one of unknown outcome does
// whatever the register dictates.
bool step_model(Register& state, const Operation& op) {
  switch (op.kind) {
    case OpKind::kPut:
      state.value = op.value;
      ++state.version;
      return true;
    case OpKind::kCas: {
      const bool swaps = state.value == op.expected;
      if (op.succeeded && *op.succeeded != swaps) return false;
      if (swaps) {
        state.value = op.value;
        ++state.version;
      }
      return true;
    }
    case OpKind::kGet:
      break;
  }
  return op.value == state.value && (!op.version || *op.version == state.version);
}

// A call or return event in a doubly linked list (index 0 is the head).
struct Event {
  size_t op = 0;
  bool call = false;
  size_t match = 0;  // the return of a call
  long prev = -1;
  long next = -1;
};

struct KeyResult {
  bool ok = true;
  bool exhausted = false;
  std::string detail;
};

KeyResult check_key(const std::vector<const Operation*>& ops, uint64_t max_steps) {
  const size_t n = ops.size();
  // Events sorted by time; returns at kNeverReturned sort after everything.
  struct Timed {
    uint64_t time;
    size_t op;
    bool call;
  };
  std::vector<Timed> timed;
  timed.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    timed.push_back({ops[i]->call, i, true});
    timed.push_back({ops[i]->ret, i, false});
  }
  std::stable_sort(timed.begin(), timed.end(), [](const Timed& a, const Timed& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.call && !b.call;
  });
  std::vector<Event> ev(2 * n + 1);
  std::vector<size_t> call_of(n), ret_of(n);
  for (size_t i = 0; i < timed.size(); ++i) {
    Event& e = ev[i + 1];
    e.op = timed[i].op;
    e.call = timed[i].call;
    e.prev = static_cast<long>(i);
    e.next = i + 2 < ev.size() ? static_cast<long>(i + 2) : -1;
    (e.call ? call_of : ret_of)[e.op] = i + 1;
  }
  ev[0].next = ev.size() > 1 ? 1 : -1;
  for (size_t i = 0; i < n; ++i) ev[call_of[i]].match = ret_of[i];

  auto unlink = [&](size_t i) {
    ev[ev[i].prev].next = ev[i].next;
    if (ev[i].next != -1) ev[ev[i].next].prev = ev[i].prev;
  };
  auto relink = [&](size_t i) {
    ev[ev[i].prev].next = static_cast<long>(i);
    if (ev[i].next != -1) ev[ev[i].next].prev = static_cast<long>(i);
  };

  std::unordered_set<CacheKey, CacheKeyHash> cache;
  std::vector<uint64_t> bits((n + 63) / 64, 0);
  Register state;
  struct Frame {
    size_t call_event;
    Register state_before;
  };
  std::vector<Frame> stack;
  size_t deepest = 0;
  size_t blocked_op = n;  // the return that stopped the deepest attempt
  uint64_t steps = 0;
  long entry = ev[0].next;
  while (ev[0].next != -1) {
    if (++steps > max_steps) return {false, true, "search bound reached"};
    Event& e = ev[entry];
    if (e.call) {
      Register next_state = state;
      if (step_model(next_state, *ops[e.op])) {
        CacheKey key{bits, next_state};
        key.bits[e.op / 64] |= uint64_t{1} << (e.op % 64);
        if (cache.insert(key).second) {
          stack.push_back({static_cast<size_t>(entry), std::move(state)});
          state = std::move(next_state);
          bits = std::move(key.bits);
          unlink(static_cast<size_t>(entry));
          unlink(e.match);
          entry = ev[0].next;
          continue;
        }
      }
      entry = e.next;
    } else {
      if (stack.size() >= deepest) {
        deepest = stack.size();
        blocked_op = e.op;
      }
      if (stack.empty()) break;
      Frame f = std::move(stack.back());
      stack.pop_back();
      const size_t op = ev[f.call_event].op;
      bits[op / 64] &= ~(uint64_t{1} << (op % 64));
      state = std::move(f.state_before);
      relink(ev[f.call_event].match);
      relink(f.call_event);
      entry = ev[f.call_event].next;
    }
  }
  if (ev[0].next == -1) return {};
  std::string detail = "no linearization";
  if (blocked_op < n) {
    detail = "cannot place " + describe(*ops[blocked_op]) + " after " + std::to_string(deepest) +
             " of " + std::to_string(n) + " operations";
  }
  return {false, false, detail};
}

}  // namespace

LinearizabilityResult check_linearizable(const std::vector<Operation>& ops,
                                         uint64_t max_steps_per_key) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : ops) by_key[op.key].push_back(&op);
  LinearizabilityResult result;
  result.ops_checked = ops.size();
  for (const auto& [key, key_ops] : by_key) {
    KeyResult r = check_key(key_ops, max_steps_per_key);
    if (!r.ok) {
      result.ok = false;
      result.exhausted = r.exhausted;
      result.key = key;
      result.detail = r.detail;
      return result;
    }
  }
  return result;
}

}  // namespace corral::sim
