// The client connection on ZeroMQ (ClientWire::kZmq): a DEALER connected to
// one endpoint (no ZMQ_IMMEDIATE, so requests queue while it connects, up
// to ZMQ_SNDHWM). The wire CURVE needs.
#pragma once

#include "coordinator/net/client_connection.h"

namespace corral::net {

class ZmqClientConnection final : public ClientConnection {
 public:
  static Result<std::unique_ptr<ZmqClientConnection>> create(zmq::context_t& context,
                                                             const ClientConnectionOptions& options);

  ClientSendResult send(std::string_view bytes) override;
  std::optional<std::string> try_receive() override;
  Result<std::string> receive(std::chrono::milliseconds timeout) override;

  zmq::socket_ref socket() { return dealer_; }

 private:
  explicit ZmqClientConnection(zmq::context_t& context);

  zmq::socket_t dealer_;
};

}  // namespace corral::net
