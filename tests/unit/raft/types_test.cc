#include <catch2/catch.hpp>

#include "coordinator/raft/status.h"
#include "coordinator/raft/types.h"

using namespace corral::raft;

TEST_CASE("types: conf change round-trips", "[types]") {
  for (auto type : {ConfChangeType::kAddNode, ConfChangeType::kAddLearner, ConfChangeType::kRemoveNode}) {
    ConfChange cc{type, 0x0102030405060708ULL, std::string("tcp://10.0.0.1:2380\0x", 21)};
    auto back = decode_conf_change(encode_conf_change(cc));
    REQUIRE(back.has_value());
    CHECK(*back == cc);
  }
}

TEST_CASE("types: garbage conf changes do not decode", "[types]") {
  const std::string good = encode_conf_change(ConfChange{ConfChangeType::kAddNode, 7, "ctx"});
  CHECK_FALSE(decode_conf_change("").has_value());
  CHECK_FALSE(decode_conf_change(good.substr(0, good.size() - 1)).has_value());
  CHECK_FALSE(decode_conf_change(good + "x").has_value());
  std::string bad_version = good;
  bad_version[0] = 9;
  CHECK_FALSE(decode_conf_change(bad_version).has_value());
  std::string bad_type = good;
  bad_type[1] = 3;
  CHECK_FALSE(decode_conf_change(bad_type).has_value());
  CHECK_FALSE(decode_conf_change(encode_conf_change(ConfChange{ConfChangeType::kAddNode, 0, ""})).has_value());
  // Every truncation of a valid encoding fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) CHECK_FALSE(decode_conf_change(good.substr(0, n)).has_value());
}

TEST_CASE("types: names", "[types]") {
  CHECK(std::string(role_name(Role::kPreCandidate)) == "pre-candidate");
  CHECK(std::string(message_type_name(MessageType::kTimeoutNow)) == "TimeoutNow");
  CHECK(std::string(status_name(Status::kTooLarge)) == "too large");
}
