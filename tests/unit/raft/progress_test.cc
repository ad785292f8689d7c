#include <catch2/catch.hpp>

#include "coordinator/raft/inflights.h"
#include "coordinator/raft/progress.h"

using namespace corral::raft;

TEST_CASE("inflights: a bounded window freed by acknowledgements", "[progress]") {
  Inflights in(3);
  in.add(5);
  in.add(7);
  CHECK_FALSE(in.full());
  in.add(9);
  CHECK(in.full());
  CHECK(in.count() == 3);
  in.free_le(6);
  CHECK(in.count() == 2);
  in.free_le(9);
  CHECK(in.count() == 0);
  in.add(10);
  in.free_first_one();
  CHECK(in.count() == 0);
}

TEST_CASE("progress: probe sends one at a time, an ack moves to replicate", "[progress]") {
  Progress pr(11, 4, false);
  CHECK(pr.state == Progress::State::kProbe);
  CHECK_FALSE(pr.is_paused());
  pr.probe_sent = true;
  CHECK(pr.is_paused());
  CHECK(pr.maybe_update(10));
  CHECK_FALSE(pr.is_paused());
  CHECK(pr.match == 10);
  CHECK(pr.next == 11);
  CHECK_FALSE(pr.maybe_update(9));  // stale
  pr.become_replicate();
  CHECK(pr.next == 11);
  pr.optimistic_update(15);
  CHECK(pr.next == 16);
}

TEST_CASE("progress: rejections in probe state use the hint, stale ones are ignored", "[progress]") {
  Progress pr(101, 4, false);
  // The probe after 100 is rejected; the follower hints its log ends at 40.
  CHECK(pr.maybe_decr_to(100, 40));
  CHECK(pr.next == 41);
  // A duplicate of the same rejection is stale now.
  CHECK_FALSE(pr.maybe_decr_to(100, 40));
  CHECK(pr.next == 41);
  // Never below match+1.
  pr.match = 30;
  CHECK(pr.maybe_decr_to(40, 5));
  CHECK(pr.next == 31);
}

TEST_CASE("progress: rejections in replicate state fall back to match+1", "[progress]") {
  Progress pr(1, 4, false);
  pr.maybe_update(20);
  pr.become_replicate();
  pr.optimistic_update(30);
  CHECK_FALSE(pr.maybe_decr_to(20, 0));  // already matched
  CHECK(pr.maybe_decr_to(25, 0));
  CHECK(pr.next == 21);
}

TEST_CASE("progress: replicate pauses when the window is full, snapshot pauses", "[progress]") {
  Progress pr(1, 2, false);
  pr.become_replicate();
  pr.inflights.add(1);
  CHECK_FALSE(pr.is_paused());
  pr.inflights.add(2);
  CHECK(pr.is_paused());
  pr.become_snapshot(50);
  CHECK(pr.is_paused());
  CHECK(pr.pending_snapshot == 50);
  pr.become_probe();
  CHECK(pr.next == 51);
  CHECK_FALSE(pr.is_paused());
}
