#include "tests/sim/linearizability.h"

#include <optional>

#include <catch2/catch.hpp>

#include "tests/sim/prng.h"

namespace corral::sim {
namespace {

Operation put(std::string key, std::string value, uint64_t call, uint64_t ret) {
  Operation op;
  op.kind = OpKind::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  op.call = call;
  op.ret = ret;
  return op;
}

Operation get(std::string key, std::string observed, uint64_t call, uint64_t ret) {
  Operation op = put(std::move(key), std::move(observed), call, ret);
  op.kind = OpKind::kGet;
  return op;
}

Operation get_version(std::string key, std::string observed, uint64_t version, uint64_t call, uint64_t ret) {
  Operation op = get(std::move(key), std::move(observed), call, ret);
  op.version = version;
  return op;
}

// A cas of known outcome (`swapped`), or unknown when `ret` is kNeverReturned.
Operation cas(std::string key, std::string expected, std::string value, std::optional<bool> swapped,
              uint64_t call, uint64_t ret) {
  Operation op = put(std::move(key), std::move(value), call, ret);
  op.kind = OpKind::kCas;
  op.expected = std::move(expected);
  op.succeeded = swapped;
  return op;
}

bool linearizable(std::vector<Operation> ops) {
  for (size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
  return check_linearizable(ops).ok;
}

TEST_CASE("empty and sequential histories are linearizable", "[linearizability]") {
  CHECK(linearizable({}));
  CHECK(linearizable({get("x", "", 1, 2)}));
  CHECK(linearizable({put("x", "a", 1, 2), get("x", "a", 3, 4), put("x", "b", 5, 6),
                      get("x", "b", 7, 8)}));
}

TEST_CASE("a stale read after a completed write is not linearizable", "[linearizability]") {
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), get("x", "", 3, 4)}));
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 4), get("x", "a", 5, 6)}));
}

TEST_CASE("a read of a value never written is not linearizable", "[linearizability]") {
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), get("x", "zzz", 3, 4)}));
}

TEST_CASE("a read concurrent with a write may see either value", "[linearizability]") {
  CHECK(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 6), get("x", "a", 4, 5)}));
  CHECK(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 6), get("x", "b", 4, 5)}));
}

TEST_CASE("reads must not go back in time", "[linearizability]") {
  // Both reads overlap the write, but once one has seen "b" a later read
  // cannot see "a" again.
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 10), get("x", "b", 4, 5),
                            get("x", "a", 6, 7)}));
  CHECK(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 10), get("x", "a", 4, 5),
                      get("x", "b", 6, 7)}));
}

TEST_CASE("writes of unknown outcome may or may not take effect", "[linearizability]") {
  CHECK(linearizable({put("x", "a", 1, kNeverReturned), get("x", "a", 2, 3)}));
  CHECK(linearizable({put("x", "a", 1, kNeverReturned), get("x", "", 2, 3)}));
  CHECK(linearizable({put("x", "a", 1, kNeverReturned), get("x", "", 2, 3), get("x", "a", 4, 5)}));
  // Once seen, it has taken effect.
  CHECK_FALSE(
      linearizable({put("x", "a", 1, kNeverReturned), get("x", "a", 2, 3), get("x", "", 4, 5)}));
  // It cannot take effect before it was called.
  CHECK_FALSE(linearizable({get("x", "a", 1, 2), put("x", "a", 3, kNeverReturned)}));
  // Two unknown writes may take effect in either order.
  CHECK(linearizable({put("x", "a", 1, kNeverReturned), put("x", "b", 2, kNeverReturned),
                      get("x", "b", 3, 4), get("x", "a", 5, 6)}));
  CHECK_FALSE(linearizable({put("x", "a", 1, kNeverReturned), put("x", "b", 2, kNeverReturned),
                            get("x", "b", 3, 4), get("x", "a", 5, 6), get("x", "b", 7, 8)}));
}

TEST_CASE("a put applied twice shows in the version a read observes", "[linearizability]") {
  CHECK(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 4), get_version("x", "b", 2, 5, 6)}));
  // "b" applied twice: the value alone looks right, the version does not.
  CHECK(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 4), get("x", "b", 5, 6)}));
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), put("x", "b", 3, 4), get_version("x", "b", 3, 5, 6)}));
  // A duplicate is not excused by a write of unknown outcome to another value.
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), put("x", "c", 1, kNeverReturned), put("x", "b", 3, 4),
                            get_version("x", "b", 4, 5, 6)}));
  // An unknown write may take effect once, not twice.
  CHECK_FALSE(linearizable({put("x", "a", 1, kNeverReturned), get_version("x", "a", 2, 3, 4)}));
  CHECK(linearizable({put("x", "a", 1, kNeverReturned), get_version("x", "a", 1, 3, 4)}));
  CHECK(linearizable({put("x", "a", 1, kNeverReturned), get_version("x", "", 0, 3, 4)}));
}

TEST_CASE("a cas swaps exactly when the key holds the value it compares", "[linearizability]") {
  CHECK(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", true, 3, 4), get("x", "b", 5, 6)}));
  CHECK(linearizable({put("x", "a", 1, 2), cas("x", "z", "b", false, 3, 4), get("x", "a", 5, 6)}));
  // A swap reported while the key held another value.
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), cas("x", "z", "b", true, 3, 4)}));
  // A refusal reported while the key held the compared value.
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", false, 3, 4)}));
  // A failed cas writes nothing.
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), cas("x", "z", "b", false, 3, 4), get("x", "b", 5, 6)}));
  // Two cas racing from the same value: at most one may win.
  CHECK(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", true, 3, 6), cas("x", "a", "c", false, 4, 5)}));
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", true, 3, 6), cas("x", "a", "c", true, 4, 5)}));
  // A swap counts as a write in the version a read observes.
  CHECK(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", true, 3, 4), get_version("x", "b", 2, 5, 6)}));
  CHECK_FALSE(linearizable({put("x", "a", 1, 2), cas("x", "z", "a", false, 3, 4), get_version("x", "a", 2, 5, 6)}));
}

TEST_CASE("a cas of unknown outcome may swap or not, once", "[linearizability]") {
  CHECK(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", std::nullopt, 3, kNeverReturned), get("x", "b", 4, 5)}));
  CHECK(linearizable({put("x", "a", 1, 2), cas("x", "a", "b", std::nullopt, 3, kNeverReturned), get("x", "a", 4, 5)}));
  // It can only swap from the value it compares.
  CHECK_FALSE(linearizable({put("x", "c", 1, 2), cas("x", "a", "b", std::nullopt, 3, kNeverReturned), get("x", "b", 4, 5)}));
}

TEST_CASE("keys are checked independently and the failing key is named", "[linearizability]") {
  std::vector<Operation> ops = {put("x", "a", 1, 2), get("x", "a", 3, 4), put("y", "c", 5, 6),
                                get("y", "", 7, 8)};
  for (size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
  LinearizabilityResult r = check_linearizable(ops);
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.exhausted);
  CHECK(r.key == "y");
  CHECK(r.ops_checked == 4);
  CHECK(r.detail.find("op#3") != std::string::npos);
}

TEST_CASE("the search bound gives an explicit result", "[linearizability]") {
  std::vector<Operation> ops;
  // Many concurrent writes and one impossible read: a large search space.
  for (uint64_t i = 0; i < 12; ++i) ops.push_back(put("x", "v" + std::to_string(i), 1 + i, 100));
  ops.push_back(get("x", "never", 101, 102));
  for (size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
  LinearizabilityResult bounded = check_linearizable(ops, 10);
  CHECK_FALSE(bounded.ok);
  CHECK(bounded.exhausted);
  LinearizabilityResult full = check_linearizable(ops);
  CHECK_FALSE(full.ok);
  CHECK_FALSE(full.exhausted);
}

// Builds a history from a real register: each operation takes effect at one
// instant inside its [call, ret] interval, so the history is linearizable by
// construction; then one read is corrupted, which must be caught.
TEST_CASE("random concurrent histories: true ones pass, corrupted ones fail", "[linearizability]") {
  constexpr int kRounds = 200;
  constexpr int kOpsPerHistory = 30;
  int corrupted_caught = 0;
  for (int round = 0; round < kRounds; ++round) {
    Rng rng(static_cast<uint64_t>(round) + 1);
    // Linearization instants are even times; calls and returns odd offsets
    // around them so every interval contains its instant.
    std::string reg;
    std::vector<Operation> ops;
    for (int i = 0; i < kOpsPerHistory; ++i) {
      const uint64_t instant = 1000 + 100 * static_cast<uint64_t>(i);
      const uint64_t call = instant - 1 - 2 * rng.below(120);
      const uint64_t ret = instant + 1 + 2 * rng.below(120);
      const std::string key = rng.below(2) == 0 ? "a" : "b";
      (void)key;
      if (rng.below(2) == 0) {
        reg = "w" + std::to_string(i);
        ops.push_back(put("k", reg, call, rng.below(5) == 0 ? kNeverReturned : ret));
      } else {
        ops.push_back(get("k", reg, call, ret));
      }
    }
    for (size_t i = 0; i < ops.size(); ++i) ops[i].id = i;
    REQUIRE(check_linearizable(ops).ok);
    // Corrupt a read to a value that was never written.
    for (Operation& op : ops) {
      if (op.kind == OpKind::kGet) {
        op.value = "never-written";
        break;
      }
    }
    if (!check_linearizable(ops).ok) ++corrupted_caught;
  }
  // Every history with a read was corrupted; with 30 ops the chance of no
  // read at all is negligible (2^-30 per round).
  CHECK(corrupted_caught == kRounds);
}

TEST_CASE("history records a cas's compare and outcome, and keeps an unknown one", "[history]") {
  History h;
  const uint64_t a = h.invoke_cas(1, "x", "old", "new", 10);
  const uint64_t b = h.invoke_cas(2, "x", "new", "newer", 11);
  const uint64_t c = h.invoke_cas(3, "x", "q", "r", 12);
  h.complete_cas(a, 20, true);
  h.abandon(b);
  h.discard(c);
  std::vector<Operation> ops = h.operations();
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].expected == "old");
  CHECK(ops[0].succeeded == std::optional<bool>(true));
  CHECK(ops[1].id == b);
  CHECK(ops[1].unknown());
  CHECK_FALSE(ops[1].succeeded.has_value());
  CHECK(describe(ops[0]).find("swapped") != std::string::npos);
}

TEST_CASE("history keeps completed ops and unknown puts, drops the rest", "[history]") {
  History h;
  const uint64_t a = h.invoke(1, OpKind::kPut, "x", "a", 10);
  const uint64_t b = h.invoke(2, OpKind::kGet, "x", "", 11);
  const uint64_t c = h.invoke(3, OpKind::kPut, "x", "c", 12);
  const uint64_t d = h.invoke(4, OpKind::kGet, "x", "", 13);
  const uint64_t e = h.invoke(5, OpKind::kPut, "x", "e", 14);
  const uint64_t f = h.invoke(6, OpKind::kPut, "x", "f", 15);
  h.complete(a, 20, "");
  h.complete(b, 21, "a");
  h.abandon(c);
  h.abandon(d);
  h.discard(e);
  (void)f;  // still pending at the end: unknown outcome
  std::vector<Operation> ops = h.operations();
  REQUIRE(ops.size() == 4);
  CHECK(ops[0].id == a);
  CHECK_FALSE(ops[0].unknown());
  CHECK(ops[0].call < ops[0].ret);
  CHECK(ops[1].id == b);
  CHECK(ops[1].value == "a");
  CHECK(ops[2].id == c);
  CHECK(ops[2].unknown());
  CHECK(ops[3].id == f);
  CHECK(ops[3].unknown());
  CHECK(h.completed(a));
  CHECK_FALSE(h.completed(c));
}

}  // namespace
}  // namespace corral::sim
