#include "bench/hostile_readers.h"

#include <chrono>
#include <cstdio>

#include "client/codec.h"

namespace corral::bench {
namespace {

constexpr int kHostileReceiveHwm = 1;
constexpr int kHostileReceiveBufferBytes = 4096;
constexpr auto kTrickleTick = std::chrono::milliseconds(10);

std::string zmq_endpoint(const std::string& endpoint) {
  return endpoint.rfind("tcp://", 0) == 0 ? endpoint : "tcp://" + endpoint;
}

}  // namespace

std::unique_ptr<HostileReaders> HostileReaders::start(const HostileFlags& flags,
                                                      const std::vector<std::string>& endpoints,
                                                      client::Client& seeder, zmq::context_t& ctx) {
  auto seeded = seeder.put(kHostileKey, std::string(static_cast<size_t>(flags.value_bytes), 'h'));
  if (!seeded.ok()) {
    std::fprintf(stderr, "hostile: put of %s: %s\n", kHostileKey, client::to_string(seeded.error()).c_str());
    return nullptr;
  }
  client::RangeRequest read;
  read.key = kHostileKey;
  auto encoded = client::encode_request(1, client::RequestBody(read));
  if (!encoded.ok()) return nullptr;
  std::unique_ptr<HostileReaders> h(new HostileReaders());
  h->flags_ = flags;
  h->request_ = std::move(encoded).value();
  for (const std::string& endpoint : endpoints) {
    for (int i = 0; i < flags.conns_per_endpoint; ++i) {
      zmq::socket_t& s = h->sockets_.emplace_back(ctx, zmq::socket_type::dealer);
      s.set(zmq::sockopt::linger, 0);
      s.set(zmq::sockopt::rcvhwm, kHostileReceiveHwm);
      s.set(zmq::sockopt::rcvbuf, kHostileReceiveBufferBytes);
      s.connect(zmq_endpoint(endpoint));
    }
  }
  for (auto& s : h->sockets_) {
    for (int i = 0; i < flags.burst_reads; ++i) h->send_read(s);
  }
  h->thread_ = std::thread([p = h.get()] { p->trickle(); });
  return h;
}

HostileReaders::~HostileReaders() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void HostileReaders::send_read(zmq::socket_t& socket) {
  if (socket.send(zmq::buffer(request_), zmq::send_flags::dontwait)) {
    ++sent_;
  } else {
    ++refused_by_zmq_;
  }
}

void HostileReaders::trickle() {
  const double per_tick = flags_.reads_per_sec * std::chrono::duration<double>(kTrickleTick).count();
  double owed = 0;
  while (!stop_.load()) {
    std::this_thread::sleep_for(kTrickleTick);
    owed += per_tick;
    for (; owed >= 1; owed -= 1) {
      for (auto& s : sockets_) send_read(s);
    }
  }
}

std::string HostileReaders::summary() const {
  return "hostile_conns=" + std::to_string(sockets_.size()) + " hostile_value_bytes=" +
         std::to_string(flags_.value_bytes) + " hostile_reads_sent=" + std::to_string(sent_.load()) +
         " hostile_reads_not_queued=" + std::to_string(refused_by_zmq_.load());
}

}  // namespace corral::bench
