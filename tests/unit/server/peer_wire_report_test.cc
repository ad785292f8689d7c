#include "coordinator/server/peer_wire_report.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

using corral::net::PeerWireTrouble;
using corral::server::PeerWireReport;
using Clock = PeerWireReport::Clock;

TEST_CASE("peer wire report: names the member and both wires, once per peer per window", "[server][peer_wire]") {
  PeerWireReport report;
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  const PeerWireTrouble about_n3{0xf544c418f170f6e0ULL, {}, "answers in ZeroMQ (the zmq peer wire)"};
  auto first = report.line(about_n3, "n3", "tcp", t0);
  REQUIRE(first);
  CHECK(first->find("member n3 (f544c418f170f6e0) answers in ZeroMQ") != std::string::npos);
  CHECK(first->find("--peer-wire") != std::string::npos);
  CHECK(first->find("this member's is tcp") != std::string::npos);
  // The same peer again inside the window: nothing; another peer: its line.
  CHECK_FALSE(report.line(about_n3, "n3", "tcp", t0 + PeerWireReport::kWindow - std::chrono::seconds(1)));
  CHECK(report.line(PeerWireTrouble{7, {}, "answers in ZeroMQ"}, "", "tcp", t0));
  // After the window: again.
  CHECK(report.line(about_n3, "n3", "tcp", t0 + PeerWireReport::kWindow));
}

TEST_CASE("peer wire report: connections opened to us count per host, not per port", "[server][peer_wire]") {
  PeerWireReport report;
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  auto line = report.line(PeerWireTrouble{0, "10.0.0.7:41234", "speaks ZeroMQ"}, "", "tcp", t0);
  REQUIRE(line);
  CHECK(line->find("a connection from 10.0.0.7:41234 to the peer port speaks ZeroMQ") != std::string::npos);
  CHECK_FALSE(report.line(PeerWireTrouble{0, "10.0.0.7:41300", "speaks ZeroMQ"}, "", "tcp", t0));
  CHECK(report.line(PeerWireTrouble{0, "10.0.0.8:41234", "speaks ZeroMQ"}, "", "tcp", t0));
  CHECK(report.line(PeerWireTrouble{0, "[::1]:5000", "speaks ZeroMQ"}, "", "tcp", t0));
  CHECK_FALSE(report.line(PeerWireTrouble{0, "[::1]:5001", "speaks ZeroMQ"}, "", "tcp", t0));
}

TEST_CASE("peer wire report: remembers at most kMaxKeys peers, forgetting the oldest", "[server][peer_wire]") {
  PeerWireReport report;
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  auto at = [&](size_t ms) { return t0 + std::chrono::milliseconds(ms); };
  // Peers 1..kMaxKeys+1, a millisecond apart: the last one pushes peer 1 out.
  for (size_t i = 0; i <= PeerWireReport::kMaxKeys; ++i) {
    CHECK(report.line(PeerWireTrouble{i + 1, {}, "x"}, "", "tcp", at(i)));
  }
  // A second later, well inside everyone's window: peer 1 was forgotten and
  // is reported again; the others are still remembered.
  CHECK(report.line(PeerWireTrouble{1, {}, "x"}, "", "tcp", at(1000)));
  CHECK_FALSE(report.line(PeerWireTrouble{3, {}, "x"}, "", "tcp", at(1000)));
  CHECK_FALSE(report.line(PeerWireTrouble{PeerWireReport::kMaxKeys + 1, {}, "x"}, "", "tcp", at(1000)));
}

TEST_CASE("peer wire report: another version of the wire is not blamed on --peer-wire", "[server][peer_wire]") {
  PeerWireReport report;
  PeerWireTrouble t{0, "10.0.0.7:41234", "says hello in version 2 of the tcp peer wire", true};
  auto line = report.line(t, "", "tcp", Clock::time_point{} + std::chrono::hours(1));
  REQUIRE(line);
  CHECK(line->find("a connection from 10.0.0.7:41234 to the peer port says hello in version 2") != std::string::npos);
  CHECK(line->find("--peer-wire") == std::string::npos);
}

TEST_CASE("peer wire report: a connection opened to us is put to the one member on its host", "[server][peer_wire]") {
  using corral::server::MemberInfo;
  std::map<uint64_t, MemberInfo> members;
  members[1] = MemberInfo{1, "n1", {"tcp://10.0.0.1:2380"}, {}, false, 0};
  members[2] = MemberInfo{2, "n2", {"tcp://10.0.0.2:2380"}, {}, false, 0};
  members[3] = MemberInfo{3, "n3", {"tcp://[fd00::3]:2380"}, {}, false, 0};
  members[4] = MemberInfo{4, "n4", {"tcp://10.0.0.4:2380"}, {}, false, 0};
  members[5] = MemberInfo{5, "n5", {"tcp://10.0.0.4:2390"}, {}, false, 0};  // n4's host too
  CHECK(PeerWireReport::member_at("10.0.0.2:41234", members, 1) == "n2");
  CHECK(PeerWireReport::member_at("[fd00::3]:5000", members, 1) == "n3");
  CHECK(PeerWireReport::member_at("10.0.0.4:41234", members, 1).empty());  // two members there
  CHECK(PeerWireReport::member_at("10.0.0.1:41234", members, 1).empty());  // ourselves
  CHECK(PeerWireReport::member_at("10.0.0.9:41234", members, 1).empty());  // nobody
  CHECK(PeerWireReport::member_at("unknown", members, 1).empty());

  PeerWireReport report;
  auto line = report.line(PeerWireTrouble{0, "10.0.0.2:41234", "speaks ZeroMQ"}, "n2", "tcp",
                          Clock::time_point{} + std::chrono::hours(1));
  REQUIRE(line);
  CHECK(line->find("a connection from 10.0.0.2:41234 (member n2's host) to the peer port speaks ZeroMQ") !=
        std::string::npos);
}
