#include "coordinator/net/zmq_client_connection.h"

#include <zmq.h>

#include <cerrno>

namespace corral::net {

ZmqClientConnection::ZmqClientConnection(zmq::context_t& context)
    : ClientConnection(ClientWire::kZmq), dealer_(context, zmq::socket_type::dealer) {}

Result<std::unique_ptr<ZmqClientConnection>> ZmqClientConnection::create(
    zmq::context_t& context, const ClientConnectionOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.error();
  Result<Endpoint> endpoint = parse_endpoint(options.endpoint, EndpointUse::kConnect);
  if (!endpoint.ok()) return endpoint.error();
  std::unique_ptr<ZmqClientConnection> c(new ZmqClientConnection(context));
  c->endpoint_ = *endpoint;
  set_common_options(c->dealer_);
  c->dealer_.set(zmq::sockopt::sndhwm, options.max_queued_requests);
  c->dealer_.set(zmq::sockopt::rcvhwm, options.max_queued_replies);
  c->dealer_.set(zmq::sockopt::maxmsgsize, options.max_reply_bytes);
  c->dealer_.set(zmq::sockopt::reconnect_ivl, options.reconnect_interval_ms);
  c->dealer_.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_interval_max_ms);
  if (options.curve) {
    if (Status s = set_curve_client(c->dealer_, *options.curve); !s.ok()) return s.error();
  }
  if (Status s = connect_to(c->dealer_, *endpoint); !s.ok()) return s.error();
  return c;
}

ClientSendResult ZmqClientConnection::send(std::string_view bytes) {
  if (zmq_send(dealer_.handle(), bytes.data(), bytes.size(), ZMQ_DONTWAIT) < 0) {
    return ClientSendResult::kBackpressure;
  }
  return ClientSendResult::kSent;
}

std::optional<std::string> ZmqClientConnection::try_receive() {
  // The server sends single frames; should more arrive, they are joined
  // rather than lost (frames of one message arrive together).
  zmq::message_t frame;
  if (zmq_msg_recv(frame.handle(), dealer_.handle(), ZMQ_DONTWAIT) < 0) return std::nullopt;
  std::string out = frame.to_string();
  while (frame.more() && zmq_msg_recv(frame.handle(), dealer_.handle(), ZMQ_DONTWAIT) >= 0) {
    out.append(frame.data<char>(), frame.size());
  }
  return out;
}

Result<std::string> ZmqClientConnection::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (std::optional<std::string> reply = try_receive()) return std::move(*reply);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // Rounded up: waking before the deadline would end the wait early.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    zmq_pollitem_t item{dealer_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, static_cast<long>(left.count())) < 0 && errno != EINTR) break;
  }
  return make_error(ErrorCode::kUnavailable, "no reply from " + endpoint_.to_zmq() + " within " +
                                                 std::to_string(timeout.count()) + " ms");
}

}  // namespace corral::net
