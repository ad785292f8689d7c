// A raw connection to a member's client endpoint, for tests that send bytes
// the library never would or that must behave unlike the library (e.g.
// never read their replies): a ZeroMQ DEALER, the way the client library
// connects on the ZeroMQ wire (its member runs with --client-wire zmq:
// ClusterOptions::client_wire = "zmq", raw_zmq_cluster), or with
// RawConnectionOptions::wire "tcp" a plain blocking TCP socket sending and
// reading net/frame_stream.h frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <capnp/message.h>
#include <zmq.hpp>

#include "client/codec.h"
#include "tests/integration/harness/cluster.h"

namespace corral::integration {

struct RawConnectionOptions {
  std::chrono::milliseconds receive_timeout{5000};
  // Receive-side bounds: ZeroMQ's I/O thread reads ahead of recv() up to
  // ZMQ_RCVHWM messages and the kernel buffers up to SO_RCVBUF bytes, so a
  // client that "never reads" must make both small. 0: ZeroMQ's defaults.
  int receive_hwm = 0;
  int receive_buffer_bytes = 0;
  std::string wire = "zmq";  // or "tcp"
};

// A message built by hand (with fields the library would never set) as the
// bytes of one frame: flat, unpacked, as the client library sends.
std::string frame_bytes(capnp::MessageBuilder& message);

// The options of a cluster a RawConnection talks to: its members' client
// wire pinned to ZeroMQ.
inline ClusterOptions raw_zmq_cluster(ClusterOptions o = {}) {
  o.client_wire = "zmq";
  return o;
}

class RawConnection {
 public:
  RawConnection(zmq::context_t& ctx, const std::string& endpoint, RawConnectionOptions options = {});
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  void send(const std::string& bytes);
  void set_receive_timeout(std::chrono::milliseconds timeout);
  // Encodes and sends one request; throws std::runtime_error if it cannot
  // be encoded (a test bug).
  void send_request(uint64_t id, const client::RequestBody& body);
  // The next message of any kind within the receive timeout; nullopt on
  // timeout or on bytes that do not decode.
  std::optional<client::ServerMessage> receive_any();
  // The next message if it is a Response (watch messages are not expected).
  std::optional<client::ResponseMessage> receive();

  zmq::socket_t socket;  // the ZeroMQ wire
  int fd = -1;           // the TCP wire

 private:
  std::optional<std::string> receive_frame();
};

}  // namespace corral::integration
