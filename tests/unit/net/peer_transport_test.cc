#include "coordinator/net/zmq_peer_transport.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/net/test_sockets.h"
#include "tests/unit/net/test_wait.h"

using corral::ErrorCode;
using corral::net::PeerId;
using corral::net::PeerMessage;
using corral::net::PeerSendResult;
using corral::net::ZmqPeerTransport;
using corral::net::PeerTransportOptions;
using corral::net::testing::kTestDeadline;
using corral::net::testing::make_transport;
using corral::net::testing::wait_readable;
using corral::net::testing::wait_until;

namespace {

constexpr size_t kMaxBatch = 256;

std::string endpoint_of(const ZmqPeerTransport& t) { return t.bound_endpoint().to_zmq(); }

// Receives until `want` messages arrived or the deadline passed.
std::vector<PeerMessage> receive_n(ZmqPeerTransport& t, size_t want) {
  std::vector<PeerMessage> out;
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (out.size() < want) {
    t.receive(kMaxBatch, out);
    if (out.size() >= want) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    wait_readable(t.inbound_socket(), left);
  }
  return out;
}

// Sends until the message is accepted: the link may still be coming up
// (kUnreachable, or briefly kBackpressure while the new connection's queue
// is being attached).
PeerSendResult send_when_connected(ZmqPeerTransport& t, PeerId to, const std::string& bytes) {
  PeerSendResult r = PeerSendResult::kUnreachable;
  wait_until([&] {
    r = t.send(to, bytes);
    return r == PeerSendResult::kSent || r == PeerSendResult::kUnknownPeer;
  });
  return r;
}

}  // namespace

TEST_CASE("peer transport: three members exchange messages both ways", "[net][peer]") {
  zmq::context_t ctx(1);
  std::map<PeerId, std::unique_ptr<ZmqPeerTransport>> members;
  for (PeerId id : {1, 2, 3}) members[id] = make_transport(ctx, id);
  for (auto& [id, t] : members) {
    for (auto& [other, o] : members) {
      if (other != id) REQUIRE(t->add_peer(other, endpoint_of(*o)).ok());
    }
  }
  for (auto& [id, t] : members) {
    CHECK(t->peer_ids().size() == 2);
    for (auto& [other, o] : members) {
      if (other == id) continue;
      REQUIRE(send_when_connected(*t, other, "hello " + std::to_string(id) + "->" +
                                                 std::to_string(other)) == PeerSendResult::kSent);
      // The connection event may trail the first accepted send a little.
      CHECK(wait_until([&] { return t->connected(other); }));
    }
  }
  constexpr int kMessagesPerLink = 200;
  for (auto& [id, t] : members) {
    for (auto& [other, o] : members) {
      if (other == id) continue;
      for (int k = 0; k < kMessagesPerLink; ++k) {
        REQUIRE(t->send(other, std::to_string(id) + ":" + std::to_string(k)) ==
                PeerSendResult::kSent);
      }
    }
  }
  for (auto& [id, t] : members) {
    const size_t want = 2 * (1 + kMessagesPerLink);
    auto got = receive_n(*t, want);
    REQUIRE(got.size() == want);
    std::map<PeerId, int> next;  // per sender, messages arrive in order
    for (const PeerMessage& m : got) {
      REQUIRE(m.from != id);
      REQUIRE(members.count(m.from) == 1);
      if (m.bytes.rfind("hello", 0) == 0) {
        CHECK(m.bytes == "hello " + std::to_string(m.from) + "->" + std::to_string(id));
        continue;
      }
      CHECK(m.bytes == std::to_string(m.from) + ":" + std::to_string(next[m.from]++));
    }
    for (auto& [from, n] : next) CHECK(n == kMessagesPerLink);
    CHECK(t->stats().received == want);
    CHECK(t->stats().dropped_malformed == 0);
  }
}

TEST_CASE("peer transport: unknown and absent peers", "[net][peer]") {
  zmq::context_t ctx(1);
  auto a = make_transport(ctx, 1);
  CHECK(a->send(99, "x") == PeerSendResult::kUnknownPeer);

  // An endpoint nobody listens on: bind, read the port, close. The transport
  // has its own context: ZeroMQ closes sockets asynchronously, and only the
  // context's end waits until the listening socket is really closed.
  std::string dead_endpoint;
  {
    zmq::context_t gone_ctx(1);
    auto gone = make_transport(gone_ctx, 7);
    dead_endpoint = endpoint_of(*gone);
    gone.reset();
  }
  REQUIRE(a->add_peer(7, dead_endpoint).ok());
  for (int i = 0; i < 100; ++i) CHECK(a->send(7, "x") == PeerSendResult::kUnreachable);
  CHECK_FALSE(a->connected(7));
  CHECK(a->stats().sent == 0);
}

TEST_CASE("peer transport: membership errors change nothing", "[net][peer]") {
  zmq::context_t ctx(1);
  auto a = make_transport(ctx, 1);
  auto b = make_transport(ctx, 2);
  CHECK(a->add_peer(0, endpoint_of(*b)).error().code == ErrorCode::kBadRequest);
  CHECK(a->add_peer(1, endpoint_of(*b)).error().code == ErrorCode::kBadRequest);
  CHECK(a->add_peer(2, "not an endpoint").error().code == ErrorCode::kBadRequest);
  CHECK(a->add_peer(2, "127.0.0.1:0").error().code == ErrorCode::kBadRequest);
  CHECK(a->peer_ids().empty());
  REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
  CHECK(a->add_peer(2, endpoint_of(*b)).error().code == ErrorCode::kBadRequest);
  CHECK(a->peer_ids() == std::vector<PeerId>{2});
  CHECK(a->remove_peer(3).error().code == ErrorCode::kNotFound);
  CHECK(a->has_peer(2));

  PeerTransportOptions bad;
  bad.bind_endpoint = "tcp://127.0.0.1:0";
  CHECK(ZmqPeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);  // id 0
  bad.self_id = 5;
  bad.bind_endpoint = "127.0.0.1";
  CHECK(ZmqPeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);
  bad.bind_endpoint = endpoint_of(*b);  // already bound by b
  CHECK(ZmqPeerTransport::create(ctx, bad).error().code == ErrorCode::kUnavailable);
  bad.bind_endpoint = "tcp://127.0.0.1:0";
  bad.max_queued_messages_per_peer = 0;
  CHECK(ZmqPeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);
}

TEST_CASE("peer transport: a peer removed and re-added", "[net][peer]") {
  zmq::context_t ctx(1);
  auto a = make_transport(ctx, 1);
  auto b = make_transport(ctx, 2);
  REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
  REQUIRE(b->add_peer(1, endpoint_of(*a)).ok());
  REQUIRE(send_when_connected(*a, 2, "first") == PeerSendResult::kSent);
  auto got = receive_n(*b, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 1);
  CHECK(got[0].bytes == "first");

  REQUIRE(a->remove_peer(2).ok());
  CHECK_FALSE(a->has_peer(2));
  CHECK(a->send(2, "while removed") == PeerSendResult::kUnknownPeer);

  REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
  REQUIRE(send_when_connected(*a, 2, "after re-add") == PeerSendResult::kSent);
  got = receive_n(*b, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 1);
  CHECK(got[0].bytes == "after re-add");

  // And the other direction still works.
  REQUIRE(send_when_connected(*b, 1, "reply") == PeerSendResult::kSent);
  got = receive_n(*a, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 2);
  CHECK(got[0].bytes == "reply");
}

TEST_CASE("peer transport: a restarted peer is reached again", "[net][peer]") {
  zmq::context_t ctx(1);
  PeerTransportOptions fast;
  fast.reconnect_interval_ms = 10;
  fast.reconnect_interval_max_ms = 50;
  auto a = make_transport(ctx, 1, fast);
  // b has its own context so that "b stopped" means its port is closed
  // (ZeroMQ closes sockets asynchronously; a context's end waits for them).
  auto b_ctx = std::make_unique<zmq::context_t>(1);
  auto b = make_transport(*b_ctx, 2);
  const std::string b_endpoint = endpoint_of(*b);
  REQUIRE(a->add_peer(2, b_endpoint).ok());
  REQUIRE(send_when_connected(*a, 2, "before") == PeerSendResult::kSent);
  REQUIRE(receive_n(*b, 1).size() == 1);
  CHECK(a->take_lost_connections().empty());  // connecting is no loss

  b.reset();
  b_ctx.reset();
  CHECK(wait_until([&] { return !a->connected(2); }));
  // The drop of an established connection is reported, once.
  CHECK(a->take_lost_connections() == std::vector<PeerId>{2});
  CHECK(a->take_lost_connections().empty());
  // Sends right after the drop may still be taken by the dying connection
  // (and lost: delivery is at most once); then they are refused.
  CHECK(wait_until([&] { return a->send(2, "while down") == PeerSendResult::kUnreachable; }));
  PeerTransportOptions same_port;
  same_port.bind_endpoint = b_endpoint;
  b_ctx = std::make_unique<zmq::context_t>(1);
  b = make_transport(*b_ctx, 2, same_port);
  std::vector<PeerMessage> got;
  CHECK(wait_until([&] {
    a->send(2, "after restart");
    wait_readable(b->inbound_socket(), std::chrono::milliseconds(10));
    b->receive(kMaxBatch, got);
    return !got.empty();
  }));
  REQUIRE_FALSE(got.empty());
  for (const PeerMessage& m : got) {
    CHECK(m.from == 1);
    CHECK(m.bytes == "after restart");
  }
  CHECK(a->connected(2));
}

TEST_CASE("peer transport: backpressure when the peer does not read", "[net][peer]") {
  zmq::context_t ctx(1);
  PeerTransportOptions small;
  small.max_queued_messages_per_peer = 4;
  small.max_inbound_queued_messages_per_peer = 4;
  auto a = make_transport(ctx, 1, small);
  auto b = make_transport(ctx, 2, small);
  REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
  REQUIRE(send_when_connected(*a, 2, "up") == PeerSendResult::kSent);

  // b never reads: a's queue, TCP buffers and b's inbound queue fill up.
  constexpr int kMaxAttempts = 5000;
  const std::string payload(64 * 1024, 'p');
  int sent = 1;
  PeerSendResult last = PeerSendResult::kSent;
  for (int i = 0; i < kMaxAttempts && last == PeerSendResult::kSent; ++i) {
    last = a->send(2, payload);
    if (last == PeerSendResult::kSent) ++sent;
  }
  REQUIRE(last == PeerSendResult::kBackpressure);
  CHECK(a->connected(2));
  // ZeroMQ may move a few queued messages into TCP meanwhile, but while b
  // does not read, the bound is hit again within a few sends.
  constexpr int kMaxExtraSends = 64;
  bool held_again = false;
  for (int i = 0; i < kMaxExtraSends && !held_again; ++i) {
    const PeerSendResult r = a->send(2, payload);
    REQUIRE(r != PeerSendResult::kUnreachable);
    if (r == PeerSendResult::kSent) ++sent;
    held_again = r == PeerSendResult::kBackpressure;
  }
  CHECK(held_again);

  // Once b reads, everything sent arrives and a can send again.
  auto got = receive_n(*b, sent);
  REQUIRE(got.size() == static_cast<size_t>(sent));
  CHECK(got[0].bytes == "up");
  CHECK(got.back().bytes == payload);
  CHECK(send_when_connected(*a, 2, "again") == PeerSendResult::kSent);
}

TEST_CASE("peer transport: messages not from a member are dropped", "[net][peer]") {
  zmq::context_t ctx(1);
  auto a = make_transport(ctx, 1);
  auto b = make_transport(ctx, 2);
  REQUIRE(b->add_peer(1, endpoint_of(*a)).ok());

  zmq::socket_t stranger(ctx, zmq::socket_type::dealer);  // no routing id
  stranger.set(zmq::sockopt::linger, 0);
  stranger.connect(endpoint_of(*a));
  stranger.send(zmq::str_buffer("anonymous"), zmq::send_flags::none);
  zmq::socket_t multi(ctx, zmq::socket_type::dealer);  // right id, two frames
  multi.set(zmq::sockopt::linger, 0);
  multi.set(zmq::sockopt::routing_id, corral::net::peer_routing_id(3));
  multi.connect(endpoint_of(*a));
  multi.send(zmq::str_buffer("one"), zmq::send_flags::sndmore);
  multi.send(zmq::str_buffer("two"), zmq::send_flags::none);
  // A real member's message, sent last, marks that the others were handled.
  REQUIRE(send_when_connected(*b, 1, "member") == PeerSendResult::kSent);

  std::vector<PeerMessage> got;
  CHECK(wait_until([&] {
    wait_readable(a->inbound_socket(), std::chrono::milliseconds(10));
    a->receive(kMaxBatch, got);
    return a->stats().dropped_malformed == 2 && !got.empty();
  }));
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 2);
  CHECK(got[0].bytes == "member");
}

TEST_CASE("peer transport: an oversized message is not delivered", "[net][peer]") {
  zmq::context_t ctx(1);
  PeerTransportOptions fast;
  fast.reconnect_interval_ms = 10;
  fast.reconnect_interval_max_ms = 50;
  auto a = make_transport(ctx, 1, fast);
  PeerTransportOptions limited;
  limited.max_message_bytes = 1000;
  auto b = make_transport(ctx, 2, limited);
  REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
  REQUIRE(send_when_connected(*a, 2, "small") == PeerSendResult::kSent);
  REQUIRE(receive_n(*b, 1).size() == 1);
  REQUIRE(a->send(2, std::string(1001, 'x')) == PeerSendResult::kSent);
  // ZeroMQ drops the connection; a reconnects and later messages arrive.
  std::vector<PeerMessage> got;
  CHECK(wait_until([&] {
    a->send(2, "probe");
    wait_readable(b->inbound_socket(), std::chrono::milliseconds(10));
    b->receive(kMaxBatch, got);
    return !got.empty();
  }));
  for (const PeerMessage& m : got) CHECK(m.bytes == "probe");
}

TEST_CASE("peer transport: routing id format", "[net][peer]") {
  for (PeerId id : {PeerId{1}, PeerId{255}, PeerId{0x0102030405060708}, ~PeerId{0}}) {
    const std::string rid = corral::net::peer_routing_id(id);
    CHECK(rid.size() == corral::net::kPeerRoutingIdBytes);
    CHECK(rid[0] == 'N');
    CHECK(corral::net::parse_peer_routing_id(rid) == id);
  }
  CHECK(corral::net::parse_peer_routing_id("") == 0);
  CHECK(corral::net::parse_peer_routing_id(std::string("\0\0\0\0\1", 5)) == 0);
  CHECK(corral::net::parse_peer_routing_id("X12345678") == 0);
}

TEST_CASE("peer transport: transports re-created in one context", "[net][peer]") {
  zmq::context_t ctx(1);
  auto b = make_transport(ctx, 2);
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    auto a = make_transport(ctx, 1);
    REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
    REQUIRE(a->remove_peer(2).ok());
    REQUIRE(a->add_peer(2, endpoint_of(*b)).ok());
    const std::string text = "round " + std::to_string(round);
    REQUIRE(send_when_connected(*a, 2, text) == PeerSendResult::kSent);
    auto got = receive_n(*b, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].bytes == text);
  }
}

TEST_CASE("peer transport: routing id with the cluster id", "[net][peer]") {
  uint64_t cluster = 1;
  const std::string rid = corral::net::peer_routing_id(7, 0xa1b2c3d4e5f60718);
  CHECK(rid.size() == corral::net::kPeerRoutingIdWithClusterBytes);
  CHECK(corral::net::parse_peer_routing_id(rid, &cluster) == 7);
  CHECK(cluster == 0xa1b2c3d4e5f60718);
  CHECK(corral::net::parse_peer_routing_id(corral::net::peer_routing_id(7), &cluster) == 7);
  CHECK(cluster == 0);
  CHECK(corral::net::parse_peer_routing_id(rid.substr(0, 12), &cluster) == 0);
}
