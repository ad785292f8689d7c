// Loopback throughput of two PeerTransports in one process, one thread:
// round trips per second (ping-pong) and one-way messages per second.
// Usage: net_throughput [message_bytes=128] [one_way_messages=200000]
//                       [round_trips=20000]
#include <zmq.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "coordinator/net/zmq_peer_transport.h"

using namespace corral::net;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kBatch = 1024;
constexpr long kPollTimeoutMs = 1000;
constexpr int kConnectAttempts = 10000;

void wait_readable(ZmqPeerTransport& t) {
  zmq_pollitem_t item{t.inbound_socket().handle(), 0, ZMQ_POLLIN, 0};
  zmq_poll(&item, 1, kPollTimeoutMs);
}

std::unique_ptr<ZmqPeerTransport> make(zmq::context_t& ctx, PeerId id) {
  PeerTransportOptions o;
  o.self_id = id;
  o.bind_endpoint = "tcp://127.0.0.1:0";
  auto t = ZmqPeerTransport::create(ctx, o);
  if (!t.ok()) {
    std::fprintf(stderr, "create: %s\n", t.error().message.c_str());
    std::exit(1);
  }
  return std::move(t).value();
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t message_bytes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 128;
  const size_t one_way = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200000;
  const size_t round_trips = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 20000;
  zmq::context_t ctx(1);
  auto a = make(ctx, 1);
  auto b = make(ctx, 2);
  if (!a->add_peer(2, b->bound_endpoint().to_zmq()).ok() ||
      !b->add_peer(1, a->bound_endpoint().to_zmq()).ok()) {
    return 1;
  }
  const std::string payload(message_bytes, 'x');
  std::vector<PeerMessage> in;
  // Bring both links up.
  for (int i = 0; i < kConnectAttempts; ++i) {
    if (a->send(2, "hi") == PeerSendResult::kSent && b->send(1, "hi") == PeerSendResult::kSent) break;
    zmq_poll(nullptr, 0, 1);  // 1 ms between connection attempts
  }
  size_t warm = 0;
  for (int i = 0; i < kConnectAttempts && warm < 2; ++i) {
    in.clear();
    wait_readable(*a);
    warm += a->receive(kBatch, in);
    in.clear();
    warm += b->receive(kBatch, in);
  }
  if (warm < 2) {
    std::fprintf(stderr, "links did not come up\n");
    return 1;
  }

  // Round trips: a -> b -> a, one message in flight.
  auto start = Clock::now();
  for (size_t i = 0; i < round_trips; ++i) {
    while (a->send(2, payload) != PeerSendResult::kSent) {}
    in.clear();
    while (b->receive(1, in) == 0) wait_readable(*b);
    while (b->send(1, payload) != PeerSendResult::kSent) {}
    in.clear();
    while (a->receive(1, in) == 0) wait_readable(*a);
  }
  const double rt_seconds = seconds_since(start);

  // One way: a sends as fast as it may; b drains whenever a is held back.
  size_t sent = 0, received = 0, backpressured = 0;
  start = Clock::now();
  while (received < one_way) {
    while (sent < one_way) {
      if (a->send(2, payload) != PeerSendResult::kSent) {
        ++backpressured;
        break;
      }
      ++sent;
    }
    in.clear();
    size_t n = b->receive(kBatch, in);
    if (n == 0 && sent == one_way) {
      wait_readable(*b);
      n = b->receive(kBatch, in);
    }
    received += n;
  }
  const double ow_seconds = seconds_since(start);

  std::printf("message_bytes=%zu\n", message_bytes);
  std::printf("round_trips=%zu seconds=%.3f round_trips_per_s=%.0f mean_rtt_us=%.1f\n",
              round_trips, rt_seconds, round_trips / rt_seconds, 1e6 * rt_seconds / round_trips);
  std::printf("one_way_messages=%zu seconds=%.3f messages_per_s=%.0f MB_per_s=%.1f "
              "backpressure_results=%zu\n",
              one_way, ow_seconds, one_way / ow_seconds,
              one_way * message_bytes / ow_seconds / 1e6, backpressured);
  return 0;
}
