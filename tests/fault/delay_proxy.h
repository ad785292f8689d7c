// A TCP proxy on loopback that holds every chunk of bytes for a delay
// before passing it on: the delay and reordering faults that tc netem
// would give, which this machine's kernel lacks. Put in front of a member's
// advertised peer port (ClusterOptions::peer_proxies), it delays that
// member's inbound raft traffic.
//
// Within one connection bytes keep their order (it is TCP): a chunk is
// never released before the one ahead of it. Across connections, and so
// between members, messages reorder as their delays differ.
//
// Each direction of a connection holds at most kMaxHeldBytes; beyond that
// the proxy stops reading that side, so a slow far end pushes back rather
// than growing memory.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>

namespace corral::fault {

class DelayProxy {
 public:
  static constexpr size_t kMaxHeldBytes = 8u << 20;
  static constexpr size_t kMaxConnections = 64;

  // Listens on 127.0.0.1:listen_port, forwards to 127.0.0.1:target_port.
  // Throws std::runtime_error when it cannot listen.
  DelayProxy(int listen_port, int target_port, uint64_t seed);
  ~DelayProxy();
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;

  // Each chunk read from now on is held `base` plus a uniform [0, jitter].
  void set_delay(std::chrono::milliseconds base, std::chrono::milliseconds jitter);
  // Chunks passed on so far (both directions), and connections accepted.
  uint64_t chunks_forwarded() const { return forwarded_.load(); }
  uint64_t connections_accepted() const { return accepted_.load(); }

 private:
  void run();
  std::chrono::steady_clock::duration next_delay();

  int listen_fd_ = -1;
  int target_port_ = 0;
  int wake_fds_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<uint64_t> accepted_{0};
  std::mutex mu_;
  std::chrono::milliseconds base_{0};
  std::chrono::milliseconds jitter_{0};
  std::mt19937_64 rng_;
  std::thread thread_;
};

}  // namespace corral::fault
