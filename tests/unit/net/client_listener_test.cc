#include "coordinator/net/zmq_client_listener.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/net/zmq_client_connection.h"
#include "tests/unit/net/test_sockets.h"
#include "tests/unit/net/test_wait.h"

using corral::ErrorCode;
using ClientConnection = corral::net::ZmqClientConnection;
using corral::net::ClientConnectionOptions;
using ClientListener = corral::net::ZmqClientListener;
using corral::net::ClientListenerOptions;
using corral::net::ClientRequest;
using corral::net::ClientSendResult;
using corral::net::ConnectionId;
using corral::net::testing::kTestDeadline;
using corral::net::testing::make_client;
using corral::net::testing::make_listener;
using corral::net::testing::wait_readable;
using corral::net::testing::wait_until;

namespace {

constexpr size_t kMaxBatch = 512;

// Receives until `want` requests arrived or the deadline passed.
std::vector<ClientRequest> receive_n(ClientListener& l, size_t want) {
  std::vector<ClientRequest> out;
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (out.size() < want) {
    l.receive(kMaxBatch, out);
    if (out.size() >= want) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    wait_readable(l.socket(), left);
  }
  return out;
}

}  // namespace

TEST_CASE("client listener: pipelined requests, replies routed to their connection",
          "[net][client]") {
  zmq::context_t ctx(1);
  auto listener = make_listener(ctx);
  constexpr int kClients = 4;
  constexpr int kRequestsPerClient = 500;
  std::vector<std::unique_ptr<ClientConnection>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(make_client(ctx, *listener));
  // All requests go out before any reply comes back.
  for (int k = 0; k < kRequestsPerClient; ++k) {
    for (int c = 0; c < kClients; ++c) {
      REQUIRE(clients[c]->send("c" + std::to_string(c) + ":" + std::to_string(k)) ==
              ClientSendResult::kSent);
    }
  }
  auto requests = receive_n(*listener, kClients * kRequestsPerClient);
  REQUIRE(requests.size() == kClients * kRequestsPerClient);
  std::map<ConnectionId, std::string> client_of;  // connection -> "cN"
  for (const ClientRequest& r : requests) {
    const std::string who = r.payload.substr(0, r.payload.find(':'));
    auto [it, inserted] = client_of.emplace(r.connection, who);
    CHECK(it->second == who);  // one connection, one client
    REQUIRE(listener->send(r.connection, "re:" + r.payload) == ClientSendResult::kSent);
  }
  CHECK(client_of.size() == kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int k = 0; k < kRequestsPerClient; ++k) {
      auto reply = clients[c]->receive(kTestDeadline);
      REQUIRE(reply.ok());
      CHECK(*reply == "re:c" + std::to_string(c) + ":" + std::to_string(k));
    }
    CHECK_FALSE(clients[c]->try_receive().has_value());
  }
  CHECK(listener->stats().received == kClients * kRequestsPerClient);
  CHECK(listener->stats().sent == kClients * kRequestsPerClient);
}

TEST_CASE("client listener: vanished and unknown connections are kGone", "[net][client]") {
  zmq::context_t ctx(1);
  auto listener = make_listener(ctx);
  CHECK(listener->send(ConnectionId{"no such connection"}, "x") == ClientSendResult::kGone);
  CHECK(listener->send(ConnectionId{""}, "x") == ClientSendResult::kGone);

  auto client_ctx = std::make_unique<zmq::context_t>(1);
  auto client = make_client(*client_ctx, *listener);
  REQUIRE(client->send("hello") == ClientSendResult::kSent);
  auto requests = receive_n(*listener, 1);
  REQUIRE(requests.size() == 1);
  const ConnectionId conn = requests[0].connection;
  REQUIRE(listener->send(conn, "hi") == ClientSendResult::kSent);
  REQUIRE(client->receive(kTestDeadline).ok());

  client.reset();
  client_ctx.reset();  // the TCP connection is really closed now
  CHECK(wait_until([&] { return listener->send(conn, "anyone?") == ClientSendResult::kGone; }));
}

TEST_CASE("client listener: a connection that does not read gets backpressure",
          "[net][client]") {
  zmq::context_t ctx(1);
  ClientListenerOptions small;
  small.max_queued_replies_per_connection = 4;
  auto listener = make_listener(ctx, small);
  ClientConnectionOptions slow;
  slow.max_queued_replies = 4;
  auto client = make_client(ctx, *listener, slow);
  REQUIRE(client->send("subscribe") == ClientSendResult::kSent);
  auto requests = receive_n(*listener, 1);
  REQUIRE(requests.size() == 1);

  constexpr int kMaxAttempts = 5000;
  const std::string event(64 * 1024, 'e');
  int sent = 0;
  ClientSendResult last = ClientSendResult::kSent;
  for (int i = 0; i < kMaxAttempts && last == ClientSendResult::kSent; ++i) {
    last = listener->send(requests[0].connection, event);
    if (last == ClientSendResult::kSent) ++sent;
  }
  REQUIRE(last == ClientSendResult::kBackpressure);
  CHECK(sent > 0);
  // Everything accepted is delivered once the client reads.
  for (int i = 0; i < sent; ++i) {
    auto got = client->receive(kTestDeadline);
    REQUIRE(got.ok());
    CHECK(got->size() == event.size());
  }
  CHECK(wait_until([&] {
    return listener->send(requests[0].connection, "more") == ClientSendResult::kSent;
  }));
}

TEST_CASE("client listener: send_counted counts the bytes ZeroMQ holds until it lets them go",
          "[net][client]") {
  zmq::context_t ctx(1);
  ClientListenerOptions small;
  small.max_queued_replies_per_connection = 4;
  auto listener = make_listener(ctx, small);
  ClientConnectionOptions slow;
  slow.max_queued_replies = 4;
  auto client = make_client(ctx, *listener, slow);
  REQUIRE(client->send("subscribe") == ClientSendResult::kSent);
  auto requests = receive_n(*listener, 1);
  REQUIRE(requests.size() == 1);
  const ConnectionId conn = requests[0].connection;

  auto queued = std::make_shared<std::atomic<int64_t>>(0);
  constexpr int kMaxAttempts = 5000;
  constexpr size_t kEventBytes = 256 * 1024;
  auto letter = [](int i) { return static_cast<char>('a' + i % 26); };
  int sent = 0;
  ClientSendResult last = ClientSendResult::kSent;
  std::string event;
  auto offer = [&] {
    event.assign(kEventBytes, letter(sent));
    last = listener->send_counted(conn, event, queued);
    if (last == ClientSendResult::kSent) ++sent;
  };
  for (int i = 0; i < kMaxAttempts && last == ClientSendResult::kSent; ++i) offer();
  REQUIRE(last == ClientSendResult::kBackpressure);
  CHECK(event.size() == kEventBytes);  // refused: still the caller's
  REQUIRE(sent > 0);
  // A message is counted from send_counted until ZeroMQ's I/O thread has
  // written it out. The first refusal can come with nothing counted: the
  // socket learns only now and then how many messages its I/O thread took
  // from the queue, and on a loaded machine that thread can write each one
  // out before the test reads the counter. So offer more until a refusal
  // comes while ZeroMQ holds bytes: it must, once the kernel's buffers are
  // full, since the client does not read.
  int64_t held_at_refusal = 0;
  bool refused_early = false;  // anything but kSent or kBackpressure
  const bool refused_while_held = wait_until([&] {
    offer();
    if (last == ClientSendResult::kSent) return false;
    refused_early = last != ClientSendResult::kBackpressure;
    held_at_refusal = queued->load();
    return refused_early || held_at_refusal > 0;
  });
  REQUIRE_FALSE(refused_early);
  CHECK(refused_while_held);
  CHECK(event.size() == kEventBytes);
  CHECK(held_at_refusal >= static_cast<int64_t>(kEventBytes));  // whole messages
  CHECK(queued->load() <= static_cast<int64_t>(sent * kEventBytes));
  // Once it reads everything, in order, ZeroMQ lets every byte go.
  for (int i = 0; i < sent; ++i) {
    auto got = client->receive(kTestDeadline);
    REQUIRE(got.ok());
    REQUIRE(got->size() == kEventBytes);
    CHECK((*got)[0] == letter(i));
  }
  CHECK(wait_until([&] { return queued->load() == 0; }));
  CHECK(wait_until([&] { return listener->queued_bytes_total() == 0; }));
  // A connection that is gone: kGone, nothing counted.
  std::string gone_bytes = "x";
  CHECK(listener->send_counted(ConnectionId{"nobody"}, gone_bytes, queued) == ClientSendResult::kGone);
  CHECK(queued->load() == 0);
}

TEST_CASE("client listener: a request past max_request_bytes never arrives", "[net][client]") {
  zmq::context_t ctx(1);
  ClientListenerOptions limited;
  limited.max_request_bytes = 1000;
  auto listener = make_listener(ctx, limited);
  ClientConnectionOptions fast;
  fast.reconnect_interval_ms = 10;
  fast.reconnect_interval_max_ms = 50;
  auto client = make_client(ctx, *listener, fast);
  REQUIRE(client->send(std::string(1000, 'a')) == ClientSendResult::kSent);  // at the bound
  auto at_bound = receive_n(*listener, 1);
  REQUIRE(at_bound.size() == 1);
  CHECK(at_bound[0].payload.size() == 1000);

  REQUIRE(client->send(std::string(1001, 'b')) == ClientSendResult::kSent);
  // ZeroMQ drops the connection; the client reconnects, later requests arrive.
  std::vector<ClientRequest> got;
  CHECK(wait_until([&] {
    client->send("small");
    wait_readable(listener->socket(), std::chrono::milliseconds(10));
    listener->receive(kMaxBatch, got);
    return !got.empty();
  }));
  for (const ClientRequest& r : got) CHECK(r.payload == "small");
}

TEST_CASE("client listener: malformed messages are dropped", "[net][client]") {
  zmq::context_t ctx(1);
  auto listener = make_listener(ctx);
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(listener->bound_endpoint().to_zmq());
  raw.send(zmq::str_buffer("part1"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("part2"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("good"), zmq::send_flags::none);
  auto got = receive_n(*listener, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "good");
  CHECK(listener->stats().dropped_malformed == 1);
}

TEST_CASE("client listener: a multipart message is delivered marked, by its first frame, when asked",
          "[net][client]") {
  zmq::context_t ctx(1);
  ClientListenerOptions o;
  o.deliver_multipart = true;
  auto listener = make_listener(ctx, o);
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(listener->bound_endpoint().to_zmq());
  raw.send(zmq::str_buffer("part1"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("part2"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("part3"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("good"), zmq::send_flags::none);
  auto got = receive_n(*listener, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].multipart);
  CHECK(got[0].payload == "part1");
  CHECK_FALSE(got[1].multipart);
  CHECK(got[1].payload == "good");
  CHECK(listener->stats().dropped_malformed == 0);
}

TEST_CASE("client listener: only the head of a message past max_kept_request_bytes is copied",
          "[net][client]") {
  zmq::context_t ctx(1);
  ClientListenerOptions o;
  o.max_kept_request_bytes = 10000;
  auto listener = make_listener(ctx, o);
  auto client = make_client(ctx, *listener);
  REQUIRE(client->send(std::string(10000, 'a')) == ClientSendResult::kSent);
  REQUIRE(client->send(std::string(1 << 20, 'b')) == ClientSendResult::kSent);
  auto got = receive_n(*listener, 2);
  REQUIRE(got.size() == 2);
  CHECK_FALSE(got[0].cut());
  CHECK(got[0].payload.size() == 10000);
  CHECK(got[1].cut());
  CHECK(got[1].wire_bytes == size_t{1} << 20);
  CHECK(got[1].payload == std::string(corral::net::kKeptPrefixBytes, 'b'));
}

TEST_CASE("client listener: one receive takes at most max_bytes of payloads, and at least one",
          "[net][client]") {
  zmq::context_t ctx(1);
  auto listener = make_listener(ctx);
  auto client = make_client(ctx, *listener);
  constexpr int kRequests = 10;
  for (int i = 0; i < kRequests; ++i) REQUIRE(client->send(std::string(1000, 'x')) == ClientSendResult::kSent);
  std::vector<ClientRequest> got;
  size_t most_in_one_call = 0;
  auto take = [&](size_t max_bytes, size_t until) {
    return wait_until([&] {
      wait_readable(listener->socket(), std::chrono::milliseconds(10));
      most_in_one_call = std::max(most_in_one_call, listener->receive(kMaxBatch, max_bytes, got));
      return got.size() >= until;
    });
  };
  CHECK(take(1, kRequests / 2));
  CHECK(most_in_one_call == 1);
  most_in_one_call = 0;
  CHECK(take(2500, kRequests));  // the third one passes 2500
  CHECK(most_in_one_call <= 3);
  CHECK(got.size() == kRequests);
}

TEST_CASE("client connection: receive times out, bad options", "[net][client]") {
  zmq::context_t ctx(1);
  auto listener = make_listener(ctx);
  auto client = make_client(ctx, *listener);
  CHECK_FALSE(client->try_receive().has_value());
  const auto start = std::chrono::steady_clock::now();
  auto r = client->receive(std::chrono::milliseconds(50));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(50));

  ClientConnectionOptions bad;
  bad.endpoint = "127.0.0.1:0";
  CHECK(ClientConnection::create(ctx, bad).error().code == ErrorCode::kBadRequest);
  bad.endpoint = "127.0.0.1:1";
  bad.max_queued_requests = 0;
  CHECK(ClientConnection::create(ctx, bad).error().code == ErrorCode::kBadRequest);
  ClientListenerOptions bad_listener;
  bad_listener.bind_endpoint = "tcp://127.0.0.1:0";
  bad_listener.max_request_bytes = 0;
  CHECK(ClientListener::create(ctx, bad_listener).error().code == ErrorCode::kBadRequest);
  bad_listener.max_request_bytes = 100;
  bad_listener.bind_endpoint = listener->bound_endpoint().to_zmq();
  CHECK(ClientListener::create(ctx, bad_listener).error().code == ErrorCode::kUnavailable);
}
