// Loopback throughput of two PeerTransports of one wire in one process,
// one thread: round trips (ping-pong) and one-way messages per second, and
// the CPU time the process spent on each (user+sys of all its threads:
// ZeroMQ's I/O threads count).
// Usage: net_throughput [wire=tcp|zmq] [message_bytes=128]
//                       [one_way_messages=200000] [round_trips=20000]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/net/peer_transport.h"
#include "coordinator/net/poller.h"

using namespace corral::net;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kBatch = 1024;
constexpr auto kPollTimeout = std::chrono::milliseconds(1000);
constexpr int kConnectAttempts = 10000;
// Timed connection work (heartbeats) every this many loop rounds.
constexpr size_t kMaintainEvery = 256;

// A transport with its own Poller, waited on as the node loop does.
struct Side {
  std::unique_ptr<PeerTransport> t;
  std::unique_ptr<Poller> poller;
  size_t slot = 0;

  void wait_readable() {
    t->inbound_drained() ? poller->drained(slot) : poller->used(slot);
    (void)poller->wait(kPollTimeout);
  }
};

Side make(zmq::context_t& ctx, PeerWire wire, PeerId id) {
  PeerTransportOptions o;
  o.self_id = id;
  o.wire = wire;
  o.bind_endpoint = "tcp://127.0.0.1:0";
  auto t = PeerTransport::create(ctx, o);
  auto p = Poller::create();
  if (!t.ok() || !p.ok()) {
    std::fprintf(stderr, "create: %s\n", t.ok() ? "poller" : t.error().message.c_str());
    std::exit(1);
  }
  Side s{std::move(t).value(), std::move(p).value(), 0};
  s.slot = s.t->watch_with(*s.poller);
  return s;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  auto wire = parse_peer_wire(argc > 1 ? argv[1] : "tcp");
  if (!wire.ok() || *wire == PeerWire::kAuto) {
    std::fprintf(stderr, "usage: net_throughput [tcp|zmq] [message_bytes] [one_way_messages] [round_trips]\n");
    return 2;
  }
  const size_t message_bytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 128;
  const size_t one_way = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 200000;
  const size_t round_trips = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 20000;
  zmq::context_t ctx(1);
  Side a = make(ctx, *wire, 1);
  Side b = make(ctx, *wire, 2);
  if (!a.t->add_peer(2, b.t->bound_endpoint().to_zmq()).ok() ||
      !b.t->add_peer(1, a.t->bound_endpoint().to_zmq()).ok()) {
    return 1;
  }
  const std::string payload(message_bytes, 'x');
  std::vector<PeerMessage> in;
  const auto maintain = [&] {
    const auto now = Clock::now();
    a.t->maintain(now);
    b.t->maintain(now);
  };
  // Bring both links up: the TCP wire connects only when its owner turns.
  bool a_sent = false, b_sent = false;
  size_t warm = 0;
  for (int i = 0; i < kConnectAttempts && warm < 2; ++i) {
    if (!a_sent) a_sent = a.t->send(2, "hi") == PeerSendResult::kSent;
    if (!b_sent) b_sent = b.t->send(1, "hi") == PeerSendResult::kSent;
    in.clear();
    warm += a.t->receive(kBatch, in);
    in.clear();
    warm += b.t->receive(kBatch, in);
    maintain();
    if (warm < 2) {
      a.t->inbound_drained() ? a.poller->drained(a.slot) : a.poller->used(a.slot);
      (void)a.poller->wait(std::chrono::milliseconds(1));
    }
  }
  if (warm < 2) {
    std::fprintf(stderr, "links did not come up\n");
    return 1;
  }

  // Round trips: a -> b -> a, one message in flight.
  auto start = Clock::now();
  double cpu_start = cpu_seconds();
  for (size_t i = 0; i < round_trips; ++i) {
    while (a.t->send(2, payload) != PeerSendResult::kSent) a.t->receive(0, in);
    in.clear();
    while (b.t->receive(1, in) == 0) {
      a.t->receive(0, in);  // the TCP wire writes what it could not at once here
      b.wait_readable();
    }
    while (b.t->send(1, payload) != PeerSendResult::kSent) b.t->receive(0, in);
    in.clear();
    while (a.t->receive(1, in) == 0) {
      b.t->receive(0, in);
      a.wait_readable();
    }
    if (i % kMaintainEvery == 0) maintain();
  }
  const double rt_seconds = seconds_since(start);
  const double rt_cpu = cpu_seconds() - cpu_start;

  // One way: a sends as fast as it may; b drains whenever a is held back.
  size_t sent = 0, received = 0, backpressured = 0, rounds = 0;
  start = Clock::now();
  cpu_start = cpu_seconds();
  while (received < one_way) {
    while (sent < one_way && a.t->send(2, payload) == PeerSendResult::kSent) ++sent;
    if (sent < one_way) ++backpressured;
    // The TCP wire writes what it queued when its owner turns (the node
    // loop does when its Poller says the socket takes bytes again).
    a.t->receive(0, in);
    in.clear();
    size_t n = b.t->receive(kBatch, in);
    if (n == 0) {
      b.wait_readable();
      n = b.t->receive(kBatch, in);
    }
    received += n;
    if (++rounds % kMaintainEvery == 0) maintain();
  }
  const double ow_seconds = seconds_since(start);
  const double ow_cpu = cpu_seconds() - cpu_start;

  std::printf("wire=%s message_bytes=%zu\n", peer_wire_name(*wire), message_bytes);
  std::printf("round_trips=%zu seconds=%.3f round_trips_per_s=%.0f mean_rtt_us=%.1f cpu_us_per_round_trip=%.1f\n",
              round_trips, rt_seconds, round_trips / rt_seconds, 1e6 * rt_seconds / round_trips,
              1e6 * rt_cpu / round_trips);
  std::printf("one_way_messages=%zu seconds=%.3f messages_per_s=%.0f MB_per_s=%.1f "
              "cpu_us_per_message=%.2f backpressure_results=%zu\n",
              one_way, ow_seconds, one_way / ow_seconds, one_way * message_bytes / ow_seconds / 1e6,
              1e6 * ow_cpu / one_way, backpressured);
  return 0;
}
