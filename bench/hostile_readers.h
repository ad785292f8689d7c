// corral-bench --hostile-conns N: clients that misbehave while a workload
// measures what the others get. Each hostile connection (N per endpoint)
// sends large reads and never reads the replies, as a broken or malicious
// client would: first a burst, then a steady trickle until the workload
// ends. On the ZeroMQ wire the hostile side's ZeroMQ keeps one message and
// the kernel 4 KiB; on the TCP wire (a raw socket sending frame_stream.h
// frames) the kernel 4 KiB: every reply it is sent piles up on the
// member's side either way.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"

namespace corral::bench {

inline constexpr const char* kHostileKey = "/bench/hostile";

struct HostileFlags {
  int conns_per_endpoint = 0;  // 0: no hostile client
  int value_bytes = 1'400'000;  // the value every hostile read asks for
  int burst_reads = 1000;       // sent at once per connection
  int reads_per_sec = 100;      // per connection afterwards
  bool tcp = true;              // the members' client wire: TCP, else ZeroMQ
};

class HostileReaders {
 public:
  // Puts the value through `seeder`, connects, sends the bursts, and starts
  // the trickle on a thread of its own. Nullptr (and a message on stderr)
  // if the value cannot be put.
  static std::unique_ptr<HostileReaders> start(const HostileFlags& flags,
                                               const std::vector<std::string>& endpoints,
                                               client::Client& seeder, zmq::context_t& ctx);
  ~HostileReaders();
  HostileReaders(const HostileReaders&) = delete;
  HostileReaders& operator=(const HostileReaders&) = delete;

  // For the JSON line's extra field: what the hostile side sent.
  std::string summary() const;

 private:
  HostileReaders() = default;
  void send_read(zmq::socket_t& socket);
  // The TCP wire: one frame, or nothing while the last one is not all out
  // (a frame is never cut).
  struct RawTcp {
    int fd = -1;
    std::string unsent;
  };
  void send_read(RawTcp& conn);
  void trickle();

  HostileFlags flags_;
  std::string request_;  // one encoded read (request ids are not matched)
  std::vector<zmq::socket_t> sockets_;
  std::vector<RawTcp> tcp_;  // the TCP wire
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> refused_by_zmq_{0};  // its own send queue was full
  std::thread thread_;
};

}  // namespace corral::bench
