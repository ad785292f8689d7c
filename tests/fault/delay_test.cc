// Delay and reordering between members, the faults tc netem would give:
// every member advertises its peer URL on a port served by a DelayProxy
// (delay_proxy.h) that holds each chunk of its inbound raft traffic for a
// delay with jitter, so messages between members arrive late and out of
// order across links. Under the loads of checked_run.h every case checks
// the history linearizable (with cas), no acknowledged write lost or applied
// twice, reads never back in time, and one applied index once healed.
//
// CORRAL_DELAY_ROUNDS=N runs N seeded rounds of random per-member delays in
// the last case (default 4); CORRAL_DELAY_SEED picks the seed.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/fault/checked_run.h"
#include "tests/fault/delay_proxy.h"
#include "tests/integration/harness/cluster.h"

using namespace corral::integration;
using namespace corral::fault;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMembers = 3;
constexpr int kTickMs = 10;
constexpr int kElectionTicks = 30;  // 300 ms: above the delays that must not cost the leader

ClusterOptions delayed_options() {
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  o.tick_ms = kTickMs;
  o.election_ticks = kElectionTicks;
  o.peer_proxies = true;
  return o;
}

// The cluster behind its proxies, with the loads running past their first
// acknowledgements.
class Setup {
 public:
  Setup() {
    for (size_t i = 0; i < kMembers; ++i) {
      const MemberSlot& m = cluster_.member(i);
      proxies_.push_back(std::make_unique<DelayProxy>(m.advertised_peer_port, m.peer_port, 1000 + i));
    }
    cluster_.start();
    run_.emplace(cluster_);
    REQUIRE(run_->progressed(kAcksBeforeFault));
  }
  Cluster& cluster() { return cluster_; }
  CheckedRun& run() { return *run_; }
  DelayProxy& proxy(size_t i) { return *proxies_.at(i); }
  void delay_all(std::chrono::milliseconds base, std::chrono::milliseconds jitter) {
    for (auto& p : proxies_) p->set_delay(base, jitter);
  }
  // Traffic went through the proxies: the test did delay something.
  void check_proxied() {
    for (size_t i = 0; i < kMembers; ++i) {
      INFO("member " << i);
      CHECK(proxies_[i]->connections_accepted() > 0);
      CHECK(proxies_[i]->chunks_forwarded() > 0);
    }
  }

 private:
  Cluster cluster_{delayed_options()};
  std::vector<std::unique_ptr<DelayProxy>> proxies_;  // after cluster_: gone before its members stop
  std::optional<CheckedRun> run_;
};

// A listening socket on 127.0.0.1:port.
int listen_on(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  return fd;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

}  // namespace

TEST_CASE("delay proxy: holds each chunk for its delay and keeps a connection's bytes in order", "[fault][delay]") {
  const int target_port = next_free_port();
  const int proxy_port = next_free_port();
  const int server = listen_on(target_port);
  DelayProxy proxy(proxy_port, target_port, 7);
  proxy.set_delay(150ms, 100ms);
  const int client = connect_to(proxy_port);
  const int accepted = ::accept(server, nullptr, nullptr);
  REQUIRE(accepted >= 0);
  const timeval recv_timeout{5, 0};
  ::setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &recv_timeout, sizeof recv_timeout);
  const auto sent_at = std::chrono::steady_clock::now();
  std::string sent;
  for (int i = 0; i < 20; ++i) {
    const std::string piece = "<" + std::to_string(i) + ">";
    REQUIRE(::send(client, piece.data(), piece.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(piece.size()));
    sent += piece;
    std::this_thread::sleep_for(2ms);  // separate chunks, each with its own random delay
  }
  std::string got;
  std::optional<std::chrono::steady_clock::duration> first_byte_after;
  char buf[256];
  while (got.size() < sent.size()) {
    const ssize_t n = ::recv(accepted, buf, sizeof buf, 0);
    REQUIRE(n > 0);  // within the 5 s receive timeout
    if (!first_byte_after) first_byte_after = std::chrono::steady_clock::now() - sent_at;
    got.append(buf, static_cast<size_t>(n));
  }
  CHECK(got == sent);  // in order, despite jitter larger than the gaps between chunks
  REQUIRE(first_byte_after);
  CHECK(*first_byte_after >= 150ms);
  CHECK(proxy.chunks_forwarded() >= 1);
  ::close(client);
  ::close(accepted);
  ::close(server);
}

TEST_CASE("delay: jittered delays on every member's inbound links reorder messages between members",
          "[fault][delay][rerun_read_index]") {
  Setup setup;
  setup.delay_all(2ms, 30ms);
  CHECK(setup.run().progressed(kAcksDuringFault * 3));
  setup.delay_all(0ms, 0ms);
  setup.check_proxied();
  setup.run().finish("jittered delays");
}

TEST_CASE("delay: the leader hears its followers late, then the followers hear everyone too late",
          "[fault][delay][rerun_read_index]") {
  Setup setup;
  auto leader = setup.cluster().wait_for_leader();
  REQUIRE(leader);
  // Acknowledgements reach the leader 100-150 ms late: slower writes, but
  // under the election timeout, so the same leader goes on.
  setup.proxy(*leader).set_delay(100ms, 50ms);
  CHECK(setup.run().progressed(kAcksDuringFault));
  // Followers hear the leader (and each other) a second late: they call
  // elections while stale heartbeats are still in flight.
  for (size_t i = 0; i < kMembers; ++i) {
    if (i != *leader) setup.proxy(i).set_delay(1000ms, 200ms);
  }
  std::this_thread::sleep_for(2s);  // the fault's length, not a wait for a result
  setup.delay_all(0ms, 0ms);
  setup.run().finish("late acks, then late heartbeats");
}

TEST_CASE("delay: seeded rounds of random per-member delays", "[fault][delay][rerun_read_index]") {
  const char* rounds_env = std::getenv("CORRAL_DELAY_ROUNDS");
  const char* seed_env = std::getenv("CORRAL_DELAY_SEED");
  const int rounds = rounds_env ? std::max(1, std::atoi(rounds_env)) : 4;
  const unsigned seed = seed_env ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10)) : 1;
  std::mt19937 rng(seed);
  Setup setup;
  std::string history;
  for (int round = 0; round < rounds; ++round) {
    history += " [";
    for (size_t i = 0; i < kMembers; ++i) {
      // Up to twice the election timeout: some rounds cost the leader.
      const auto base = std::chrono::milliseconds(rng() % (2 * kTickMs * kElectionTicks));
      const auto jitter = std::chrono::milliseconds(rng() % 100);
      setup.proxy(i).set_delay(base, jitter);
      history += " " + std::to_string(base.count()) + "+" + std::to_string(jitter.count());
    }
    history += " ]";
    std::this_thread::sleep_for(1500ms);  // the fault's length
    setup.delay_all(0ms, 0ms);
    INFO("seed " << seed << ", delays (ms) by round:" << history);
    CHECK(setup.run().progressed(kAcksDuringFault));
  }
  INFO("seed " << seed << ", delays (ms) by round:" << history);
  setup.check_proxied();
  setup.run().finish("seeded delays seed " + std::to_string(seed));
}
