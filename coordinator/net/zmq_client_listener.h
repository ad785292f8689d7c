// The client listener on ZeroMQ (ClientWire::kZmq): a ROUTER bound on the
// client endpoint. Clients are DEALERs that send one frame per request;
// replies go back routed by the ROUTER's routing id for the connection. The
// wire CURVE needs.
//
// How it holds the bounds of client_listener.h:
//  - max_request_bytes is ZMQ_MAXMSGSIZE: ZeroMQ disconnects a client that
//    sends a bigger message; it never reaches us (ZMTP has no way to refuse
//    one message and keep the stream). ZeroMQ holds a message whole before
//    we see it.
//  - max_queued_replies_per_connection is ZMQ_SNDHWM: ZeroMQ has no per-
//    connection queue of its own we can size, but each connection's pipe is
//    bounded by SNDHWM; with ZMQ_ROUTER_MANDATORY a send to a full pipe says
//    kBackpressure and a send to a connection that is gone says kGone,
//    instead of ZeroMQ dropping the message silently. SNDHWM counts
//    messages, not bytes: send_counted's QueuedBytes is lowered by ZeroMQ's
//    I/O thread when it releases the message.
//  - max_queued_requests_per_connection is ZMQ_RCVHWM.
// Learning that a connection went away: libzmq here is built without the
// draft ZMQ_ROUTER_NOTIFY option, and a socket monitor's DISCONNECTED event
// names a file descriptor, not a routing id. So a vanished connection is
// learned when a send to it says kGone; the api layer sends periodic watch
// progress notifications, which bounds how long a dead connection's watches
// live.
#pragma once

#include "coordinator/net/client_listener.h"

namespace corral::net {

class ZmqClientListener final : public ClientListener {
 public:
  static Result<std::unique_ptr<ZmqClientListener>> create(zmq::context_t& context,
                                                           const ClientListenerOptions& options);

  size_t receive(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out) override;
  using ClientListener::receive;
  ClientSendResult send(const ConnectionId& connection, std::string_view bytes) override;
  ClientSendResult send_counted(const ConnectionId& connection, std::string& bytes,
                                const QueuedBytes& queued) override;
  int64_t queued_bytes_total() const override { return queued_total_->load(std::memory_order_relaxed); }
  size_t watch_with(Poller& poller) override;

  zmq::socket_ref socket() { return router_; }

 private:
  explicit ZmqClientListener(zmq::context_t& context);

  zmq::socket_t router_;
  size_t max_kept_request_bytes_ = kUnboundedKeptRequestBytes;
  bool deliver_multipart_ = false;
  // Lowered by ZeroMQ's I/O thread, possibly after this listener is gone.
  QueuedBytes queued_total_ = std::make_shared<std::atomic<int64_t>>(0);
};

}  // namespace corral::net
