#include "tests/sim/kv_state_machine.h"

#include <catch2/catch.hpp>

namespace corral::sim {
namespace {

TEST_CASE("put commands round-trip and bad ones are refused", "[kv]") {
  auto p = decode_put(encode_put({"k1", "c1.7"}));
  REQUIRE(p);
  CHECK(p->key == "k1");
  CHECK(p->value == "c1.7");
  CHECK_FALSE(decode_put(""));
  CHECK_FALSE(decode_put("get\nk\nv"));
  CHECK_FALSE(decode_put("put\nk"));
  CHECK_FALSE(decode_put("put\nk\nv\nextra"));
}

TEST_CASE("state machine applies, reads, remembers history and snapshots", "[kv]") {
  KvStateMachine sm;
  CHECK(sm.get("a") == "");
  sm.apply({"a", "1"});
  sm.apply({"b", "2"});
  sm.apply({"a", "3"});
  CHECK(sm.get("a") == "3");
  CHECK(sm.wrote("a", "1"));
  CHECK_FALSE(sm.wrote("a", "2"));
  auto copy = KvStateMachine::deserialize(sm.serialize());
  REQUIRE(copy);
  CHECK(*copy == sm);
  auto empty = KvStateMachine::deserialize("");
  REQUIRE(empty);
  CHECK(*empty == KvStateMachine());
  CHECK_FALSE(KvStateMachine::deserialize("a\n"));
  CHECK_FALSE(KvStateMachine::deserialize("a\nx\n"));
  CHECK_FALSE(KvStateMachine::deserialize("a\n3\n1\n"));
}

TEST_CASE("state machine reports a put applied twice, also after a snapshot", "[kv]") {
  KvStateMachine sm;
  CHECK(sm.version("a") == 0);
  CHECK(sm.apply({"a", "c1.1"}));
  CHECK(sm.apply({"a", "c1.2"}));
  CHECK(sm.version("a") == 2);
  auto restored = KvStateMachine::deserialize(sm.serialize());
  REQUIRE(restored);
  CHECK_FALSE(restored->apply({"a", "c1.1"}));
  CHECK(restored->version("a") == 3);  // applied all the same, as a broken server would
  CHECK(restored->apply({"b", "c1.1"}));  // the same value under another key is another put
}

}  // namespace
}  // namespace corral::sim
