// LeaderMoves: a move-leader answer waits for its target to lead, times out
// otherwise, and asks raft again only while no transfer runs.
#include <catch2/catch.hpp>

#include <vector>

#include "coordinator/server/leader_moves.h"

using corral::server::LeaderMoves;
using namespace std::chrono_literals;

namespace {

struct Outcome {
  std::vector<uint64_t> asked;
  std::vector<std::pair<uint64_t, bool>> answered;  // request id, moved
};

void step(LeaderMoves& m, LeaderMoves::Clock::time_point now, uint64_t leader, bool running, Outcome& o) {
  m.step(now, leader, running, [&](uint64_t target) { o.asked.push_back(target); },
         [&](const LeaderMoves::Waiter& w, bool moved) { o.answered.emplace_back(w.request_id, moved); });
}

corral::net::ConnectionId conn(char c) { return corral::net::ConnectionId{std::string(1, c)}; }

}  // namespace

TEST_CASE("leader moves: answered once the target leads, not before") {
  LeaderMoves m(100ms);
  const auto t0 = LeaderMoves::Clock::now();
  REQUIRE(m.add(conn('a'), 7, /*target=*/2, t0, t0 + 1s));
  Outcome o;
  step(m, t0 + 10ms, /*leader=*/1, true, o);
  CHECK(o.answered.empty());
  step(m, t0 + 20ms, 2, false, o);
  REQUIRE(o.answered.size() == 1);
  CHECK(o.answered[0] == std::make_pair(uint64_t{7}, true));
  CHECK(m.empty());
}

TEST_CASE("leader moves: a move that never happens times out") {
  LeaderMoves m(100ms);
  const auto t0 = LeaderMoves::Clock::now();
  REQUIRE(m.add(conn('a'), 7, 2, t0, t0 + 500ms));
  Outcome o;
  step(m, t0 + 499ms, 1, false, o);
  CHECK(o.answered.empty());
  step(m, t0 + 500ms, 1, false, o);
  REQUIRE(o.answered.size() == 1);
  CHECK(o.answered[0] == std::make_pair(uint64_t{7}, false));
}

TEST_CASE("leader moves: asked again after the retry interval only while no transfer runs") {
  LeaderMoves m(100ms);
  const auto t0 = LeaderMoves::Clock::now();
  REQUIRE(m.add(conn('a'), 7, 2, t0, t0 + 10s));
  Outcome o;
  step(m, t0 + 50ms, 1, false, o);
  CHECK(o.asked.empty());  // the first ask was the request's own
  step(m, t0 + 150ms, 1, true, o);
  CHECK(o.asked.empty());  // a transfer runs: leave it be
  step(m, t0 + 160ms, 1, false, o);
  CHECK(o.asked == std::vector<uint64_t>{2});  // it was aborted: ask again
  step(m, t0 + 200ms, 1, false, o);
  CHECK(o.asked.size() == 1);  // not before another interval
  step(m, t0 + 270ms, 1, false, o);
  CHECK(o.asked.size() == 2);
  // Bounded: the leader takes no write while a transfer runs.
  for (int i = 3; i < 20; ++i) step(m, t0 + i * 100ms, 1, false, o);
  CHECK(o.asked.size() == static_cast<size_t>(corral::server::kMaxLeaderMoveAsks - 1));
  CHECK(o.answered.empty());
}

TEST_CASE("leader moves: one ask per step, so two waiters do not abort each other's transfer") {
  LeaderMoves m(100ms);
  const auto t0 = LeaderMoves::Clock::now();
  REQUIRE(m.add(conn('a'), 1, 2, t0, t0 + 10s));
  REQUIRE(m.add(conn('b'), 2, 3, t0, t0 + 10s));
  Outcome o;
  step(m, t0 + 100ms, 1, false, o);
  CHECK(o.asked.size() == 1);
}

TEST_CASE("leader moves: bounded, and take_all hands back every waiter") {
  LeaderMoves m(100ms);
  const auto t0 = LeaderMoves::Clock::now();
  for (size_t i = 0; i < corral::server::kMaxWaitingLeaderMoves; ++i) REQUIRE(m.add(conn('a'), i, 2, t0, t0 + 1s));
  CHECK_FALSE(m.add(conn('a'), 999, 2, t0, t0 + 1s));
  CHECK(m.take_all().size() == corral::server::kMaxWaitingLeaderMoves);
  CHECK(m.empty());
}
