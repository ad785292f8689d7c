// What both peer wires promise (peer_transport.h), run against each:
// every case is a GENERATE over PeerWire. What only one wire does is
// tested in tcp_peer_hostile_test.cc and peer_transport_test.cc.
#include <catch2/catch.hpp>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/net/peer_transport.h"
#include "tests/unit/net/peer_net.h"

using corral::ErrorCode;
using corral::net::PeerId;
using corral::net::PeerMessage;
using corral::net::PeerQueuedBytes;
using corral::net::PeerSendResult;
using corral::net::PeerTransport;
using corral::net::PeerTransportOptions;
using corral::net::PeerWire;
using corral::net::peer_wire_name;
using corral::net::testing::PeerNet;
using corral::net::testing::patient;

namespace {

PeerWire any_wire() { return GENERATE(PeerWire::kTcp, PeerWire::kZmq); }


}  // namespace

TEST_CASE("peer wires: three members exchange messages both ways", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  for (PeerId id : {1, 2, 3}) net.start(id, patient());
  net.connect_all();
  for (PeerId id : {1, 2, 3}) {
    CHECK(net[id].peer_ids().size() == 2);
    for (PeerId other : {1, 2, 3}) {
      if (other == id) continue;
      const std::string hello = "hello " + std::to_string(id) + "->" + std::to_string(other);
      REQUIRE(net.send_when_connected(id, other, hello) == PeerSendResult::kSent);
      CHECK(net.turn_until([&] { return net[id].connected(other); }));
    }
  }
  constexpr int kMessagesPerLink = 200;
  for (PeerId id : {1, 2, 3}) {
    for (PeerId other : {1, 2, 3}) {
      if (other == id) continue;
      for (int k = 0; k < kMessagesPerLink; ++k) {
        REQUIRE(net[id].send(other, std::to_string(id) + ":" + std::to_string(k)) == PeerSendResult::kSent);
      }
    }
  }
  for (PeerId id : {1, 2, 3}) {
    const size_t want = 2 * (1 + kMessagesPerLink);
    const auto& got = net.receive_n(id, want);
    REQUIRE(got.size() == want);
    std::map<PeerId, int> next;  // per sender, messages arrive in order
    for (const PeerMessage& m : got) {
      REQUIRE(m.from != id);
      REQUIRE((m.from >= 1 && m.from <= 3));
      if (m.bytes.rfind("hello", 0) == 0) {
        CHECK(m.bytes == "hello " + std::to_string(m.from) + "->" + std::to_string(id));
        continue;
      }
      CHECK(m.bytes == std::to_string(m.from) + ":" + std::to_string(next[m.from]++));
    }
    for (auto& [from, n] : next) CHECK(n == kMessagesPerLink);
    CHECK(net[id].stats().received == want);
    CHECK(net[id].stats().sent == want);
    CHECK(net[id].stats().dropped_malformed == 0);
    CHECK(net[id].take_lost_connections().empty());
  }
}

TEST_CASE("peer wires: unknown and absent peers", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  auto& a = net.start(1, patient());
  CHECK(a.send(99, "x") == PeerSendResult::kUnknownPeer);
  std::string taken = "y";
  CHECK(a.send_counted(99, taken, std::make_shared<std::atomic<int64_t>>(0)) == PeerSendResult::kUnknownPeer);
  CHECK(taken == "y");

  // An endpoint nobody listens on: bind, read the port, close.
  net.start(7);
  const std::string dead_endpoint = net.endpoint(7);
  net.stop(7);
  REQUIRE(a.add_peer(7, dead_endpoint).ok());
  constexpr int kTries = 100;
  for (int i = 0; i < kTries; ++i) {
    CHECK(a.send(7, "x") == PeerSendResult::kUnreachable);
    net.turn(std::chrono::milliseconds(1));
  }
  CHECK_FALSE(a.connected(7));
  CHECK(a.stats().sent == 0);
  CHECK(a.take_lost_connections().empty());  // never connected, never lost
}

TEST_CASE("peer wires: membership errors change nothing", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  auto& a = net.start(1, patient());
  net.start(2, patient());
  const std::string b_endpoint = net.endpoint(2);
  CHECK(a.add_peer(0, b_endpoint).error().code == ErrorCode::kBadRequest);
  CHECK(a.add_peer(1, b_endpoint).error().code == ErrorCode::kBadRequest);
  CHECK(a.add_peer(2, "not an endpoint").error().code == ErrorCode::kBadRequest);
  CHECK(a.add_peer(2, "127.0.0.1:0").error().code == ErrorCode::kBadRequest);
  CHECK(a.peer_ids().empty());
  CHECK_FALSE(a.has_peer(2));
  REQUIRE(a.add_peer(2, b_endpoint).ok());
  REQUIRE(net.send_when_connected(1, 2, "first") == PeerSendResult::kSent);
  // A second add, even to another endpoint, is refused and leaves the link as it was.
  net.start(3, patient());
  CHECK(a.add_peer(2, net.endpoint(3)).error().code == ErrorCode::kBadRequest);
  CHECK(a.peer_ids() == std::vector<PeerId>{2});
  CHECK(a.remove_peer(3).error().code == ErrorCode::kNotFound);
  CHECK(a.has_peer(2));
  REQUIRE(a.send(2, "second") == PeerSendResult::kSent);
  const auto& got = net.receive_n(2, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].bytes == "first");
  CHECK(got[1].bytes == "second");
  CHECK(net.inbox(3).empty());
  CHECK(a.take_lost_connections().empty());

  zmq::context_t ctx(1);
  PeerTransportOptions bad;
  bad.wire = net.wire();
  bad.bind_endpoint = "tcp://127.0.0.1:0";
  CHECK(PeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);  // id 0
  bad.self_id = 5;
  bad.bind_endpoint = "127.0.0.1";
  CHECK(PeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);
  bad.bind_endpoint = b_endpoint;  // already bound by b
  CHECK(PeerTransport::create(ctx, bad).error().code == ErrorCode::kUnavailable);
  bad.bind_endpoint = "tcp://127.0.0.1:0";
  bad.max_queued_messages_per_peer = 0;
  CHECK(PeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);
  bad.max_queued_messages_per_peer = 4;
  bad.heartbeat_timeout_ms = bad.heartbeat_interval_ms - 1;
  CHECK(PeerTransport::create(ctx, bad).error().code == ErrorCode::kBadRequest);
}

TEST_CASE("peer wires: a peer removed and re-added", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  auto& a = net.start(1, patient());
  auto& b = net.start(2, patient());
  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(b.add_peer(1, net.endpoint(1)).ok());
  REQUIRE(net.send_when_connected(1, 2, "first") == PeerSendResult::kSent);
  auto* got = &net.receive_n(2, 1);
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].from == 1);
  CHECK((*got)[0].bytes == "first");

  REQUIRE(a.remove_peer(2).ok());
  CHECK_FALSE(a.has_peer(2));
  CHECK_FALSE(a.connected(2));
  CHECK(a.send(2, "while removed") == PeerSendResult::kUnknownPeer);
  CHECK(a.remove_peer(2).error().code == ErrorCode::kNotFound);

  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(net.send_when_connected(1, 2, "after re-add") == PeerSendResult::kSent);
  got = &net.receive_n(2, 2);
  REQUIRE(got->size() == 2);
  CHECK((*got)[1].from == 1);
  CHECK((*got)[1].bytes == "after re-add");

  // And the other direction still works.
  REQUIRE(net.send_when_connected(2, 1, "reply") == PeerSendResult::kSent);
  got = &net.receive_n(1, 1);
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].from == 2);
  CHECK((*got)[0].bytes == "reply");
}

TEST_CASE("peer wires: a restarted peer is reached again, its drop reported once", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  auto& a = net.start(1, patient());
  net.start(2, patient());
  const std::string b_endpoint = net.endpoint(2);
  REQUIRE(a.add_peer(2, b_endpoint).ok());
  REQUIRE(net.send_when_connected(1, 2, "before") == PeerSendResult::kSent);
  REQUIRE(net.receive_n(2, 1).size() == 1);
  CHECK(net.turn_until([&] { return a.connected(2); }));
  CHECK(a.take_lost_connections().empty());  // connecting is no loss

  net.stop(2);
  CHECK(net.turn_until([&] { return !a.connected(2); }));
  // The drop of an established connection is reported, once.
  std::vector<PeerId> lost;
  CHECK(net.turn_until([&] {
    for (PeerId id : a.take_lost_connections()) lost.push_back(id);
    return !lost.empty();
  }));
  CHECK(lost == std::vector<PeerId>{2});
  // Sends right after the drop may still be taken by the dying connection
  // (and lost: delivery is at most once); then they are refused.
  CHECK(net.turn_until([&] { return a.send(2, "while down") == PeerSendResult::kUnreachable; }));
  for (int i = 0; i < 20; ++i) net.turn(std::chrono::milliseconds(1));  // reconnect attempts, refused
  CHECK(a.take_lost_connections().empty());

  PeerTransportOptions same_port = patient();
  same_port.bind_endpoint = b_endpoint;
  net.start(2, same_port);
  CHECK(net.turn_until([&] {
    a.send(2, "after restart");
    return !net.inbox(2).empty();
  }));
  for (const PeerMessage& m : net.inbox(2)) {
    CHECK(m.from == 1);
    CHECK(m.bytes == "after restart");
  }
  CHECK(a.connected(2));
  CHECK(a.take_lost_connections().empty());
}

TEST_CASE("peer wires: backpressure when the peer does not read, bounded", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  PeerTransportOptions small = patient();
  small.max_queued_messages_per_peer = 4;
  small.max_inbound_queued_messages_per_peer = 4;
  small.max_message_bytes = 1 << 20;
  auto& a = net.start(1, small);
  net.start(2, small);
  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(net.send_when_connected(1, 2, "up") == PeerSendResult::kSent);
  REQUIRE(net.receive_n(2, 1).size() == 1);

  // b stops reading: a's queue, the TCP buffers (and ZeroMQ's inbound
  // queue on b) fill up.
  net.pause(2);
  constexpr int kMaxAttempts = 20000;
  const std::string payload(64 * 1024, 'p');
  int sent = 0;
  PeerSendResult last = PeerSendResult::kSent;
  for (int i = 0; i < kMaxAttempts && last == PeerSendResult::kSent; ++i) {
    last = a.send(2, payload);
    if (last == PeerSendResult::kSent) ++sent;
    if (i % 16 == 0) net.turn(std::chrono::milliseconds(0));
  }
  REQUIRE(last == PeerSendResult::kBackpressure);
  CHECK(a.connected(2));
  // What got in before the bound: the kernel's socket buffers on both
  // sides hold most of it (loopback autotuning grows them to a few MiB).
  WARN(peer_wire_name(net.wire()) << ": " << sent << " messages of 64 KiB (" << sent * 64 << " KiB) taken before kBackpressure");
  CHECK(sent * payload.size() < (64u << 20));
  // The bytes are not consumed by a refused send_counted.
  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  std::string refused = payload;
  bool held = false;
  for (int i = 0; i < 64 && !held; ++i) {
    held = a.send_counted(2, refused, counter) == PeerSendResult::kBackpressure;
    if (!held) {
      ++sent;
      refused = payload;
    }
  }
  CHECK(held);
  CHECK(refused == payload);
  // While b does not read, the bound holds: a few more sends at most.
  constexpr int kMaxExtraSends = 64;
  bool held_again = false;
  for (int i = 0; i < kMaxExtraSends && !held_again; ++i) {
    net.turn(std::chrono::milliseconds(0));
    const PeerSendResult r = a.send(2, payload);
    REQUIRE(r != PeerSendResult::kUnreachable);
    if (r == PeerSendResult::kSent) ++sent;
    held_again = r == PeerSendResult::kBackpressure;
  }
  CHECK(held_again);

  // Once b reads, everything sent arrives and a can send again.
  net.resume(2);
  const auto& got = net.receive_n(2, 1 + sent);
  REQUIRE(got.size() == static_cast<size_t>(1 + sent));
  for (size_t i = 1; i < got.size(); ++i) REQUIRE(got[i].bytes == payload);
  CHECK(net.send_when_connected(1, 2, "again") == PeerSendResult::kSent);
  CHECK(net.receive_n(2, 2 + sent).back().bytes == "again");
  CHECK(a.take_lost_connections().empty());
}

TEST_CASE("peer wires: an oversized message is not delivered, the link recovers", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  auto& a = net.start(1, patient());
  PeerTransportOptions limited = patient();
  constexpr size_t kLimit = 1000;
  limited.max_message_bytes = kLimit;
  net.start(2, limited);
  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(net.send_when_connected(1, 2, std::string(kLimit, 's')) == PeerSendResult::kSent);  // at the bound: fine
  REQUIRE(net.receive_n(2, 1).size() == 1);
  REQUIRE(a.send(2, std::string(kLimit + 1, 'x')) == PeerSendResult::kSent);
  // The receiver drops the connection; a reconnects and later messages arrive.
  CHECK(net.turn_until([&] {
    a.send(2, "probe");
    return net.inbox(2).size() > 1;
  }));
  const auto& got = net.inbox(2);
  CHECK(got[0].bytes == std::string(kLimit, 's'));
  for (size_t i = 1; i < got.size(); ++i) CHECK(got[i].bytes == "probe");
}

TEST_CASE("peer wires: the cluster id travels with every message", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  constexpr uint64_t kCluster = 0xa1b2c3d4e5f60718;
  auto& a = net.start(1, patient());
  auto& b = net.start(2, patient());
  net.start(3, patient());
  REQUIRE(a.add_peer(3, net.endpoint(3)).ok());  // before a knows its cluster
  a.set_cluster_id(kCluster);
  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(b.add_peer(3, net.endpoint(3)).ok());  // b never knows it
  REQUIRE(net.send_when_connected(1, 2, "one") == PeerSendResult::kSent);
  REQUIRE(net.send_when_connected(1, 3, "two") == PeerSendResult::kSent);
  REQUIRE(net.send_when_connected(2, 3, "three") == PeerSendResult::kSent);
  for (int i = 0; i < 10; ++i) REQUIRE(a.send(2, "more") == PeerSendResult::kSent);
  const auto& at_b = net.receive_n(2, 11);
  REQUIRE(at_b.size() == 11);
  for (const PeerMessage& m : at_b) CHECK(m.cluster_id == kCluster);
  const auto& at_c = net.receive_n(3, 2);
  REQUIRE(at_c.size() == 2);
  for (const PeerMessage& m : at_c) CHECK(m.cluster_id == 0);  // peers added before: not yet
}

TEST_CASE("peer wires: send_counted counts bytes until they are written", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  PeerTransportOptions options = patient();
  options.max_queued_messages_per_peer = 16;
  auto& a = net.start(1, options);
  net.start(2, options);
  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(net.send_when_connected(1, 2, "up") == PeerSendResult::kSent);

  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  constexpr int kMessages = 20;
  const std::string payload(100 * 1024, 'c');
  for (int i = 0; i < kMessages; ++i) {
    std::string bytes = payload;
    // ZeroMQ's queue may hold the peer back for a moment: not consumed then.
    REQUIRE(net.turn_until([&] {
      const PeerSendResult r = a.send_counted(2, bytes, counter);
      REQUIRE((r == PeerSendResult::kSent || r == PeerSendResult::kBackpressure));
      if (r == PeerSendResult::kBackpressure) CHECK(bytes == payload);
      return r == PeerSendResult::kSent;
    }));
    CHECK(bytes.empty());  // consumed
    CHECK(*counter >= 0);
  }
  CHECK(net.turn_until([&] { return net.inbox(2).size() == 1 + kMessages && *counter == 0; }));
  CHECK(*counter == 0);

  // Bytes still queued when the peer is removed are no longer counted.
  net.pause(2);
  int64_t most = 0;
  for (int i = 0; i < 4096; ++i) {
    std::string bytes = payload;
    if (a.send_counted(2, bytes, counter) != PeerSendResult::kSent) break;
    most = std::max<int64_t>(most, *counter);
  }
  CHECK(most > 0);
  REQUIRE(a.remove_peer(2).ok());
  CHECK(net.turn_until([&] { return *counter == 0; }));
}

TEST_CASE("peer wires: an idle link stays up past the heartbeat timeout", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  // Long enough that a loaded machine's stall of this one thread (every
  // member's turns) does not pass for a dead peer.
  PeerTransportOptions quick = patient();
  quick.heartbeat_interval_ms = 100;
  quick.heartbeat_timeout_ms = 600;
  auto& a = net.start(1, quick);
  auto& b = net.start(2, quick);
  net.connect_all();
  REQUIRE(net.send_when_connected(1, 2, "up") == PeerSendResult::kSent);
  REQUIRE(net.send_when_connected(2, 1, "up") == PeerSendResult::kSent);
  REQUIRE(net.turn_until([&] { return a.connected(2) && b.connected(1); }));
  // Over three heartbeat timeouts of silence, both members taking their turns.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
  bool stayed_up = true;
  while (std::chrono::steady_clock::now() < until) {
    net.turn();
    stayed_up = stayed_up && a.connected(2) && b.connected(1);
  }
  CHECK(stayed_up);
  CHECK(a.take_lost_connections().empty());
  CHECK(b.take_lost_connections().empty());
  CHECK(a.send(2, "still") == PeerSendResult::kSent);
  CHECK(net.receive_n(2, 2).back().bytes == "still");
  CHECK(net.inbox(1).size() == 1);  // heartbeats are not messages
}

TEST_CASE("peer wires: a removed peer's drop is not reported", "[net][peer][wire]") {
  PeerNet net(any_wire());
  INFO("wire " << peer_wire_name(net.wire()));
  auto& a = net.start(1, patient());
  net.start(2, patient());
  REQUIRE(a.add_peer(2, net.endpoint(2)).ok());
  REQUIRE(net.send_when_connected(1, 2, "up") == PeerSendResult::kSent);
  REQUIRE(net.turn_until([&] { return a.connected(2); }));
  net.stop(2);
  REQUIRE(net.turn_until([&] { return !a.connected(2); }));
  REQUIRE(a.remove_peer(2).ok());
  CHECK(a.take_lost_connections().empty());
}
