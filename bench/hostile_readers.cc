#include "bench/hostile_readers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
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

// A TCP connection to IP:PORT (tcp:// optional) with a 4 KiB receive
// buffer, non-blocking once up; -1 if it cannot be made.
int raw_tcp_connect(const std::string& endpoint) {
  std::string hostport = endpoint.rfind("tcp://", 0) == 0 ? endpoint.substr(6) : endpoint;
  const size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
  if (::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int rcvbuf = kHostileReceiveBufferBytes;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::string framed(const std::string& bytes) {
  const auto n = static_cast<uint32_t>(bytes.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + bytes;
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
  if (flags.tcp) {
    h->request_ = framed(h->request_);
    for (const std::string& endpoint : endpoints) {
      for (int i = 0; i < flags.conns_per_endpoint; ++i) {
        const int fd = raw_tcp_connect(endpoint);
        if (fd < 0) {
          std::fprintf(stderr, "hostile: cannot connect to %s\n", endpoint.c_str());
          return nullptr;
        }
        h->tcp_.push_back(RawTcp{fd, {}});
      }
    }
    for (auto& c : h->tcp_) {
      for (int i = 0; i < flags.burst_reads; ++i) h->send_read(c);
    }
    h->thread_ = std::thread([p = h.get()] { p->trickle(); });
    return h;
  }
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
  for (auto& c : tcp_) ::close(c.fd);
}

void HostileReaders::send_read(RawTcp& conn) {
  if (conn.unsent.empty()) conn.unsent = request_;
  else ++refused_by_zmq_;  // the last one is still going out: this one is not queued
  const ssize_t n = ::send(conn.fd, conn.unsent.data(), conn.unsent.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n > 0) conn.unsent.erase(0, static_cast<size_t>(n));
  if (conn.unsent.empty()) ++sent_;
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
      for (auto& c : tcp_) send_read(c);
    }
  }
}

std::string HostileReaders::summary() const {
  return "hostile_conns=" + std::to_string(sockets_.size() + tcp_.size()) + " hostile_value_bytes=" +
         std::to_string(flags_.value_bytes) + " hostile_reads_sent=" + std::to_string(sent_.load()) +
         " hostile_reads_not_queued=" + std::to_string(refused_by_zmq_.load());
}

}  // namespace corral::bench
