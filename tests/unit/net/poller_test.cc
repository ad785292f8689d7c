#include "coordinator/net/poller.h"

#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "coordinator/net/zmq_client_connection.h"
#include "coordinator/net/zmq_client_listener.h"
#include "coordinator/net/zmq_peer_transport.h"
#include "tests/unit/net/test_wait.h"

using corral::ErrorCode;
using corral::net::Poller;
using corral::net::PollResult;
using corral::net::testing::kTestDeadline;

namespace {

std::unique_ptr<Poller> make_poller() {
  auto p = Poller::create();
  REQUIRE(p.ok());
  return std::move(p).value();
}

}  // namespace

TEST_CASE("poller: wakes when a socket becomes readable", "[net][poller]") {
  zmq::context_t ctx(1);
  corral::net::ClientListenerOptions lo;
  lo.bind_endpoint = "tcp://127.0.0.1:0";
  auto listener = std::move(corral::net::ZmqClientListener::create(ctx, lo)).value();
  corral::net::PeerTransportOptions po;
  po.self_id = 1;
  po.bind_endpoint = "tcp://127.0.0.1:0";
  auto peers = std::move(corral::net::ZmqPeerTransport::create(ctx, po)).value();

  auto poller = make_poller();
  const size_t peer_slot = poller->add(peers->inbound_socket());
  const size_t client_slot = poller->add(listener->socket());
  CHECK(peer_slot != client_slot);

  auto idle = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(idle.ok());
  CHECK(idle->readable.empty());
  CHECK_FALSE(idle->woken);

  corral::net::ClientConnectionOptions co;
  co.endpoint = listener->bound_endpoint().to_zmq();
  auto client = std::move(corral::net::ZmqClientConnection::create(ctx, co)).value();
  REQUIRE(client->send("ping") == corral::net::ClientSendResult::kSent);

  const auto start = std::chrono::steady_clock::now();
  auto ready = poller->wait(kTestDeadline);
  REQUIRE(ready.ok());
  CHECK(std::chrono::steady_clock::now() - start < kTestDeadline);
  REQUIRE(ready->readable == std::vector<size_t>{client_slot});
  CHECK_FALSE(ready->woken);
  std::vector<corral::net::ClientRequest> requests;
  CHECK(listener->receive(16, requests) == 1);
  // Drained: no longer readable.
  auto after = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(after.ok());
  CHECK(after->readable.empty());

  // A removed socket is no longer watched.
  REQUIRE(poller->remove(client_slot).ok());
  CHECK(poller->remove(client_slot).error().code == ErrorCode::kNotFound);
  CHECK(poller->remove(99).error().code == ErrorCode::kNotFound);
  REQUIRE(client->send("ping2") == corral::net::ClientSendResult::kSent);
  REQUIRE(corral::net::testing::wait_readable(listener->socket(), kTestDeadline));
  auto removed = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(removed.ok());
  CHECK(removed->readable.empty());
  // The freed slot is reused.
  CHECK(poller->add(listener->socket()) == client_slot);
}

TEST_CASE("poller: wake() from another thread ends a wait", "[net][poller]") {
  auto poller = make_poller();
  std::thread waker([&] { poller->wake(); });
  const auto start = std::chrono::steady_clock::now();
  auto r = poller->wait(kTestDeadline);
  waker.join();
  REQUIRE(r.ok());
  CHECK(r->woken);
  CHECK(std::chrono::steady_clock::now() - start < kTestDeadline);
  // The wake-up was consumed.
  auto again = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(again.ok());
  CHECK_FALSE(again->woken);
}

TEST_CASE("poller: many wakes coalesce into one", "[net][poller]") {
  auto poller = make_poller();
  constexpr int kThreads = 4;
  constexpr int kWakesPerThread = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWakesPerThread; ++i) poller->wake();
    });
  }
  for (auto& t : threads) t.join();
  auto first = poller->wait(kTestDeadline);
  REQUIRE(first.ok());
  CHECK(first->woken);
  auto second = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(second.ok());
  CHECK_FALSE(second->woken);
}

TEST_CASE("poller: timeout with nothing to do", "[net][poller]") {
  auto poller = make_poller();
  const auto start = std::chrono::steady_clock::now();
  auto r = poller->wait(std::chrono::milliseconds(20));
  REQUIRE(r.ok());
  CHECK_FALSE(r->woken);
  CHECK(r->readable.empty());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(19));
}

namespace {

// Two ends of an inproc pair: `to` sends to `from`, which the tests poll.
struct Pair {
  zmq::context_t ctx{1};
  zmq::socket_t from{ctx, zmq::socket_type::pair};
  zmq::socket_t to{ctx, zmq::socket_type::pair};
  explicit Pair(const char* address) {
    from.bind(address);
    to.connect(address);
  }
  void send(const char* text) { REQUIRE(to.send(zmq::buffer(std::string(text)), zmq::send_flags::none)); }
  // Reads everything waiting; true if the last receive said EAGAIN.
  size_t drain() {
    size_t n = 0;
    zmq::message_t m;
    while (from.recv(m, zmq::recv_flags::dontwait)) ++n;
    return n;
  }
};

}  // namespace

TEST_CASE("poller: a socket whose owner reports its use is looked at only when signalled or used",
          "[net][poller]") {
  Pair pair("inproc://poller-owner-reports");
  auto poller = make_poller();
  const size_t slot = poller->add(pair.from, corral::net::Tracking::kOwnerReportsUse);
  auto idle = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(idle.ok());
  CHECK(idle->readable.empty());

  // A message its fd announces ends a wait.
  for (const char* text : {"1", "2"}) {
    pair.send(text);
    const auto start = std::chrono::steady_clock::now();
    auto r = poller->wait(kTestDeadline);
    REQUIRE(r.ok());
    CHECK(r->readable == std::vector<size_t>{slot});
    CHECK(std::chrono::steady_clock::now() - start < kTestDeadline);
    CHECK(pair.drain() == 1);
    poller->drained(slot);
  }

  // Another call on the socket (here zmq_poll) can take the fd's signal:
  // unless told of that use, the poller does not look (why owners report
  // every send); told, it does.
  pair.send("3");
  REQUIRE(corral::net::testing::wait_readable(pair.from, kTestDeadline));
  auto unreported = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(unreported.ok());
  CHECK(unreported->readable.empty());
  poller->used(slot);
  auto reported = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(reported.ok());
  CHECK(reported->readable == std::vector<size_t>{slot});
  // Reported readable, it stays looked at until drained.
  auto again = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(again.ok());
  CHECK(again->readable == std::vector<size_t>{slot});
  CHECK(pair.drain() == 1);
}

TEST_CASE("poller: a socket nobody reports is looked at before every wait", "[net][poller]") {
  Pair pair("inproc://poller-check-every-wait");
  auto poller = make_poller();
  const size_t slot = poller->add(pair.from);
  pair.send("1");
  REQUIRE(corral::net::testing::wait_readable(pair.from, kTestDeadline));  // takes the fd's signal
  auto r = poller->wait(std::chrono::milliseconds(0));
  REQUIRE(r.ok());
  CHECK(r->readable == std::vector<size_t>{slot});
}
