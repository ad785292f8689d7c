#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/sink/zmq_push_sink.h"

namespace corral::agent::sink {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kReceiveTimeout{5000};
constexpr milliseconds kFullWait{50};

struct Puller {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::pull};
  std::string endpoint;
  explicit Puller(int rcvhwm = 1000) {
    socket.set(zmq::sockopt::rcvhwm, rcvhwm);
    socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(kReceiveTimeout.count()));
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
  // [task, lines]; fails the test if nothing comes within kReceiveTimeout.
  std::pair<std::string, std::string> receive() {
    zmq::message_t task;
    zmq::message_t lines;
    REQUIRE(socket.recv(task));
    REQUIRE(task.more());
    REQUIRE(socket.recv(lines));
    REQUIRE_FALSE(lines.more());
    return {task.to_string(), lines.to_string()};
  }
};

std::unique_ptr<ZmqPushSink> connect_to(const std::string& endpoint, int hwm = kDefaultZmqSendHwm) {
  auto sink = ZmqPushSink::open(ZmqPushOptions{endpoint, false, hwm, milliseconds{0}});
  REQUIRE(sink.ok());
  return std::move(sink).value();
}

Clock::time_point soon() { return Clock::now() + kFullWait; }

}  // namespace

TEST_CASE("zmq push sink sends one two-frame message (task then lines) per batch in order", "[agent_sink][zmq]") {
  Puller puller;
  auto sink = connect_to(puller.endpoint);
  CHECK(sink->describe() == "zmq:" + puller.endpoint);
  REQUIRE(sink->append("web/access/1.1.1.1", "a1\na2\n", Clock::now() + kReceiveTimeout).ok());
  REQUIRE(sink->append("web/error/1.1.1.1", "e1\n", Clock::now() + kReceiveTimeout).ok());
  REQUIRE(sink->append("web/access/1.1.1.1", "", Clock::now() + kReceiveTimeout).ok());  // nothing sent
  REQUIRE(sink->append("web/access/1.1.1.1", "a3\n", Clock::now() + kReceiveTimeout).ok());
  REQUIRE(sink->make_durable("web/access/1.1.1.1").ok());
  CHECK(puller.receive() == std::pair<std::string, std::string>{"web/access/1.1.1.1", "a1\na2\n"});
  CHECK(puller.receive() == std::pair<std::string, std::string>{"web/error/1.1.1.1", "e1\n"});
  CHECK(puller.receive() == std::pair<std::string, std::string>{"web/access/1.1.1.1", "a3\n"});
  CHECK(sink->close("web/access/1.1.1.1").ok());
}

TEST_CASE("zmq push sink: a reader that does not read makes append kFull at its deadline", "[agent_sink][zmq]") {
  Puller puller(1);
  constexpr int kSendHwm = 1;
  auto sink = connect_to(puller.endpoint, kSendHwm);
  const std::string batch = std::string(256 * 1024 - 1, 'x') + "\n";
  // Bounded: the high-water marks plus the kernel's loopback buffers hold far
  // fewer than this many 256 KiB batches. Full is when two appends in a row
  // wait out a deadline long enough that a busy I/O thread is not mistaken
  // for a full queue.
  constexpr int kMaxAccepted = 200;
  constexpr int kFullInARow = 2;
  constexpr milliseconds kFillWait{200};
  int accepted = 0;
  int full_in_a_row = 0;
  for (int attempt = 0; attempt < kMaxAccepted && full_in_a_row < kFullInARow; ++attempt) {
    Status s = sink->append("a/t/1.1.1.1", batch, Clock::now() + kFillWait);
    if (s.ok()) {
      ++accepted;
      full_in_a_row = 0;
      continue;
    }
    REQUIRE(s.error().code == SinkErrorCode::kFull);
    ++full_in_a_row;
  }
  REQUIRE(full_in_a_row == kFullInARow);
  CHECK(accepted < kMaxAccepted);
  auto started = Clock::now();
  auto full = sink->append("a/t/1.1.1.1", batch, soon());
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == SinkErrorCode::kFull);
  CHECK(Clock::now() - started >= kFullWait - milliseconds{5});
  // kFull is not a failure of the task: what was accepted is still durable as far as ZeroMQ goes.
  CHECK(sink->make_durable("a/t/1.1.1.1").ok());
  for (int i = 0; i < accepted; ++i) CHECK(puller.receive().second == batch);
  REQUIRE(sink->append("a/t/1.1.1.1", "after\n", Clock::now() + kReceiveTimeout).ok());
  CHECK(puller.receive().second == "after\n");
}

TEST_CASE("zmq push sink bound with no peer is kFull at once past its deadline", "[agent_sink][zmq]") {
  auto sink = ZmqPushSink::open(ZmqPushOptions{"tcp://127.0.0.1:*", true, kDefaultZmqSendHwm, milliseconds{0}});
  REQUIRE(sink.ok());
  CHECK((*sink)->endpoint().rfind("tcp://127.0.0.1:", 0) == 0);
  auto s = (*sink)->append("a/t/1.1.1.1", "x\n", Clock::now());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == SinkErrorCode::kFull);
}

TEST_CASE("zmq push sink refuses an endpoint ZeroMQ cannot use", "[agent_sink][zmq]") {
  auto sink = ZmqPushSink::open(ZmqPushOptions{"nonsense://x", false});
  REQUIRE_FALSE(sink.ok());
  CHECK(sink.error().code == SinkErrorCode::kBadSpec);
  CHECK(sink.error().message.find("nonsense://x") != std::string::npos);
  auto hwm = ZmqPushSink::open(ZmqPushOptions{"tcp://127.0.0.1:1", false, 0});
  REQUIRE_FALSE(hwm.ok());
  CHECK(hwm.error().code == SinkErrorCode::kBadSpec);
}

}  // namespace corral::agent::sink
