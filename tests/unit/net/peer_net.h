// A few PeerTransports of one wire in one test, driven the way the node
// loop drives its own: one Poller (watch_with), a transport reports
// drained/used before the wait, receive() only when its slot is readable,
// maintain() every turn. Waiting is on the Poller with a deadline; a turn
// is at most kTurnWait long (ZeroMQ's connection events wake no fd here,
// so a turn also ends on its own to look at them again).
#pragma once

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "coordinator/net/peer_transport.h"
#include "coordinator/net/poller.h"
#include "tests/unit/net/test_wait.h"
#include "tests/unit/server/test_env.h"

namespace corral::net::testing {

inline constexpr std::chrono::milliseconds kTurnWait{5};
inline constexpr size_t kMaxReceiveBatch = 256;

// Fast reconnects, and a heartbeat timeout no loaded machine reaches by
// accident (the cases about silence set their own).
inline PeerTransportOptions patient() {
  PeerTransportOptions o;
  o.reconnect_interval_ms = 10;
  o.reconnect_interval_max_ms = 50;
  o.heartbeat_interval_ms = 1000;
  o.heartbeat_timeout_ms = 60000;
  return o;
}

class PeerNet {
 public:
  struct Member {
    // Its own context: "stopped" then means its port is closed (ZeroMQ
    // closes sockets asynchronously; a context's end waits for them).
    std::unique_ptr<zmq::context_t> context;
    std::unique_ptr<PeerTransport> transport;
    size_t slot = 0;
    bool pumped = true;  // false: a member that stopped reading (pause())
    std::vector<PeerMessage> inbox;
  };

  explicit PeerNet(PeerWire wire) : wire_(wire) {
    auto p = Poller::create();
    REQUIRE(p.ok());
    poller_ = std::move(p).value();
  }
  ~PeerNet() {
    while (!members_.empty()) stop(members_.begin()->first);
  }

  PeerWire wire() const { return wire_; }

  // On options.bind_endpoint when set, else on a free port below the
  // ephemeral range (a stopped member's port, bound again by its restart,
  // is then not taken by some test's outgoing connection meanwhile).
  PeerTransport& start(PeerId id, PeerTransportOptions options = {}) {
    options.self_id = id;
    options.wire = wire_;
    const bool pick_port = options.bind_endpoint.empty();
    Member m;
    m.context = std::make_unique<zmq::context_t>(1);
    constexpr int kBindTries = 20;
    Result<std::unique_ptr<PeerTransport>> t = make_error(ErrorCode::kUnavailable, "not tried");
    for (int i = 0; i < kBindTries; ++i) {
      if (pick_port) options.bind_endpoint = "tcp://127.0.0.1:" + std::to_string(corral::testing::free_port());
      t = PeerTransport::create(*m.context, options);
      if (t.ok() || !pick_port || t.error().code != ErrorCode::kUnavailable) break;  // else taken meanwhile
    }
    REQUIRE(t.ok());
    m.transport = std::move(t).value();
    m.slot = m.transport->watch_with(*poller_);
    auto [it, inserted] = members_.emplace(id, std::move(m));
    REQUIRE(inserted);
    return *it->second.transport;
  }

  // Closes the member's transport and waits until its sockets are closed.
  void stop(PeerId id) {
    auto it = members_.find(id);
    REQUIRE(it != members_.end());
    if (it->second.pumped) REQUIRE(poller_->remove(it->second.slot).ok());
    it->second.transport.reset();
    it->second.context.reset();
    members_.erase(it);
  }

  PeerTransport& operator[](PeerId id) { return *member(id).transport; }
  Member& member(PeerId id) {
    auto it = members_.find(id);
    REQUIRE(it != members_.end());
    return it->second;
  }
  std::string endpoint(PeerId id) { return (*this)[id].bound_endpoint().to_zmq(); }
  std::vector<PeerMessage>& inbox(PeerId id) { return member(id).inbox; }

  // The member stops taking turns: it neither reads nor keeps its links.
  // Out of the Poller too, as a node loop that stopped would be (a look at
  // its socket could take the signal it needs when it resumes).
  void pause(PeerId id) {
    Member& m = member(id);
    REQUIRE(m.pumped);
    REQUIRE(poller_->remove(m.slot).ok());
    m.pumped = false;
  }
  void resume(PeerId id) {
    Member& m = member(id);
    REQUIRE_FALSE(m.pumped);
    m.slot = m.transport->watch_with(*poller_);
    poller_->used(m.slot);  // it may hold input its fd announced to nobody
    m.pumped = true;
  }

  // Every started member adds every other one.
  void connect_all() {
    for (auto& [id, m] : members_) {
      for (auto& [other, o] : members_) {
        if (other != id) REQUIRE(m.transport->add_peer(other, o.transport->bound_endpoint().to_zmq()).ok());
      }
    }
  }

  // One node-loop turn for every member still pumped.
  void turn(std::chrono::milliseconds wait = kTurnWait) {
    for (auto& [id, m] : members_) {
      if (!m.pumped) continue;
      m.transport->inbound_drained() ? poller_->drained(m.slot) : poller_->used(m.slot);
    }
    auto polled = poller_->wait(wait);
    REQUIRE(polled.ok());
    const auto& readable = polled->readable;
    for (auto& [id, m] : members_) {
      if (!m.pumped) continue;
      if (std::find(readable.begin(), readable.end(), m.slot) != readable.end()) {
        m.transport->receive(kMaxReceiveBatch, m.inbox);
      }
      m.transport->maintain(std::chrono::steady_clock::now());
    }
  }

  // Turns until `condition` holds or the deadline passes.
  bool turn_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = kTestDeadline) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      turn();
    }
    return true;
  }

  // Sends until the message is taken: the link may still be coming up.
  PeerSendResult send_when_connected(PeerId from, PeerId to, const std::string& bytes) {
    PeerSendResult r = PeerSendResult::kUnreachable;
    turn_until([&] {
      r = (*this)[from].send(to, bytes);
      return r == PeerSendResult::kSent || r == PeerSendResult::kUnknownPeer;
    });
    return r;
  }

  // Turns until `id` received `want` messages in all (or the deadline).
  std::vector<PeerMessage>& receive_n(PeerId id, size_t want) {
    turn_until([&] { return inbox(id).size() >= want; });
    return inbox(id);
  }

 private:
  PeerWire wire_;
  std::unique_ptr<Poller> poller_;
  std::map<PeerId, Member> members_;
};

}  // namespace corral::net::testing
