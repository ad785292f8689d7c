// A client connection's output without raft or ZeroMQ: frames ZeroMQ
// refuses are held in order and retried with backoff (1, 2, 4 .. 32 ms);
// a connection past the held bound overflows; a gone one is dropped; idle
// entries are swept unless kept; a backlogged connection is refused and
// that is reported once.
#include <catch2/catch.hpp>

#include <deque>

#include "coordinator/server/connection_output.h"

using corral::net::ClientSendResult;
using corral::net::ConnectionId;
using corral::net::QueuedBytes;
using corral::server::ConnectionOutputs;
using namespace std::chrono_literals;

namespace {

// Stands in for ZeroMQ: answers from a script (kSent once it runs out) and
// keeps what it took, counting it into the connection's queued bytes.
struct FakeZmq {
  std::deque<ClientSendResult> script;
  std::vector<std::pair<std::string, std::string>> taken;  // routing id, frame
  int calls = 0;
  ConnectionOutputs::SendFn fn() {
    return [this](const ConnectionId& c, std::string& frame, const QueuedBytes& queued) {
      ++calls;
      auto r = ClientSendResult::kSent;
      if (!script.empty()) {
        r = script.front();
        script.pop_front();
      }
      if (r == ClientSendResult::kSent) {
        taken.emplace_back(c.routing_id, frame);
        queued->fetch_add(static_cast<int64_t>(frame.size()));
      }
      return r;
    };
  }
  std::vector<std::string> frames() const {
    std::vector<std::string> out;
    for (const auto& [id, f] : taken) out.push_back(f);
    return out;
  }
};

const auto t0 = ConnectionOutputs::Clock::time_point{} + 1h;
const ConnectionId a{"a"};
const ConnectionId b{"b"};
using Sent = ConnectionOutputs::Sent;

}  // namespace

TEST_CASE("connection output: a refused frame is held and later frames queue behind it", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn());
  CHECK(outputs.send(a, "1", t0) == Sent::kSent);
  zmq.script = {ClientSendResult::kBackpressure};
  CHECK(outputs.send(a, "2", t0) == Sent::kHeld);
  // ZeroMQ would take it now, but it must not overtake "2".
  const int calls = zmq.calls;
  CHECK(outputs.send(a, "3", t0) == Sent::kHeld);
  CHECK(zmq.calls == calls);
  CHECK(outputs.held_bytes_total() == 2);
  CHECK(outputs.holding(a));
  REQUIRE(outputs.find(a) != nullptr);
  CHECK(outputs.find(a)->paused(t0));
  // Other connections are not held up.
  CHECK(outputs.send(b, "x", t0) == Sent::kSent);

  std::vector<ConnectionOutputs::Clock::time_point> retries;
  auto note = [&](ConnectionOutputs::Clock::time_point at) { retries.push_back(at); };
  // Before the first backoff (1 ms) nothing is retried.
  CHECK(outputs.flush_held(t0, note).empty());
  CHECK(retries == std::vector{t0 + 1ms});
  CHECK(outputs.flush_held(t0 + 1ms, note).empty());
  CHECK(zmq.frames() == std::vector<std::string>{"1", "x", "2", "3"});
  CHECK(outputs.held_bytes_total() == 0);
  CHECK_FALSE(outputs.holding(a));
  CHECK(outputs.find(a)->backoff_ms == 0);
  CHECK_FALSE(outputs.find(a)->paused(t0 + 1ms));
}

TEST_CASE("connection output: the retry backs off 1, 2, 4 .. 32 ms while ZeroMQ refuses", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn());
  zmq.script = {ClientSendResult::kBackpressure};
  REQUIRE(outputs.send(a, "held", t0) == Sent::kHeld);
  std::vector<int> backoffs{outputs.find(a)->backoff_ms};
  auto now = t0;
  for (int i = 0; i < 7; ++i) {
    now = outputs.find(a)->retry_at;
    zmq.script = {ClientSendResult::kBackpressure};
    CHECK(outputs.flush_held(now, [](auto) {}).empty());
    backoffs.push_back(outputs.find(a)->backoff_ms);
  }
  CHECK(backoffs == std::vector<int>{1, 2, 4, 8, 16, 32, 32, 32});
  CHECK(outputs.find(a)->retry_at == now + 32ms);
}

TEST_CASE("connection output: past the held bound the connection overflows", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn(), /*max_held_bytes_per_connection=*/10);
  zmq.script = {ClientSendResult::kBackpressure};
  CHECK(outputs.send(a, std::string(6, 'x'), t0) == Sent::kHeld);
  CHECK(outputs.send(a, std::string(4, 'y'), t0) == Sent::kHeld);  // exactly at the bound
  CHECK(outputs.send(a, "z", t0) == Sent::kOverflow);
  CHECK(outputs.find(a)->held_bytes == 10);  // the overflowing frame was not kept
  outputs.forget(a);
  CHECK(outputs.find(a) == nullptr);
  CHECK(outputs.held_bytes_total() == 0);
  CHECK_FALSE(outputs.holding(a));
}

TEST_CASE("connection output: a gone connection is dropped, on send or on retry", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn());
  zmq.script = {ClientSendResult::kGone};
  CHECK(outputs.send(a, "1", t0) == Sent::kGone);
  CHECK(outputs.find(a) == nullptr);

  zmq.script = {ClientSendResult::kBackpressure};
  CHECK(outputs.send(b, "1", t0) == Sent::kHeld);
  zmq.script = {ClientSendResult::kGone};
  CHECK(outputs.flush_held(t0 + 1ms, [](auto) {}) == std::vector{b});
  CHECK(outputs.find(b) == nullptr);
  CHECK(outputs.held_bytes_total() == 0);
  CHECK(outputs.size() == 0);
}

TEST_CASE("connection output: a refusal is sent only when nothing is held", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn());
  std::string refusal = "no";
  CHECK(outputs.send_unheld(a, refusal) == Sent::kSent);
  zmq.script = {ClientSendResult::kBackpressure};
  CHECK(outputs.send(a, "reply", t0) == Sent::kHeld);
  const int calls = zmq.calls;
  CHECK(outputs.send_unheld(a, refusal) == Sent::kHeld);
  CHECK(zmq.calls == calls);  // not even tried: it would grow the pile
  zmq.script = {ClientSendResult::kGone};
  CHECK(outputs.send_unheld(b, refusal) == Sent::kGone);
  CHECK(outputs.find(b) == nullptr);
}

TEST_CASE("connection output: idle entries are swept unless kept, at most every 100 ms", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn());
  const ConnectionId watcher{"w"};
  outputs.open(watcher);
  REQUIRE(outputs.send(a, "in zmq", t0) == Sent::kSent);
  outputs.open(b);
  auto keep = [&](const ConnectionId& c) { return c == watcher; };
  outputs.sweep(t0, keep);
  CHECK(outputs.find(b) == nullptr);        // nothing unsent: forgotten
  CHECK(outputs.find(a) != nullptr);        // ZeroMQ still holds its bytes
  CHECK(outputs.find(watcher) != nullptr);  // kept (a watch stream)
  outputs.find(a)->in_zmq->store(0);        // ZeroMQ wrote it out
  outputs.sweep(t0 + 99ms, keep);
  CHECK(outputs.find(a) != nullptr);  // not yet time to sweep again
  outputs.sweep(t0 + 100ms, keep);
  CHECK(outputs.find(a) == nullptr);
  CHECK(outputs.size() == 1);
}

TEST_CASE("connection output: a backlogged connection is refused, reported once", "[server][output]") {
  FakeZmq zmq;
  ConnectionOutputs outputs(zmq.fn());
  corral::net::ReplyBudget budget;
  budget.max_unsent_bytes_per_connection = 100;
  budget.max_unsent_bytes_total = 1000;
  budget.max_unsent_bytes_when_crowded = 10;
  CHECK_FALSE(outputs.backlog(a, budget, 0));  // unknown connection: served
  REQUIRE(outputs.send(a, std::string(50, 'x'), t0) == Sent::kSent);
  CHECK_FALSE(outputs.backlog(a, budget, 50));
  REQUIRE(outputs.send(a, std::string(60, 'x'), t0) == Sent::kSent);
  auto first = outputs.backlog(a, budget, 110);
  REQUIRE(first);
  CHECK(first->verdict == corral::net::ServeVerdict::kConnectionFull);
  CHECK(first->unsent == 110);
  CHECK(first->total == 110);
  CHECK(first->first_refusal);
  auto again = outputs.backlog(a, budget, 110);
  REQUIRE(again);
  CHECK_FALSE(again->first_refusal);
  // Held bytes count into the total: every connection together is past its bound.
  zmq.script = {ClientSendResult::kBackpressure};
  REQUIRE(outputs.send(b, std::string(20, 'y'), t0) == Sent::kHeld);
  auto crowded = outputs.backlog(b, budget, 990);
  REQUIRE(crowded);
  CHECK(crowded->verdict == corral::net::ServeVerdict::kMemberFull);
  CHECK(crowded->total == 1010);
}
