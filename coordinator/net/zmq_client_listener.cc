#include "coordinator/net/zmq_client_listener.h"

#include "coordinator/net/poller.h"
#include "coordinator/net/routed_receive.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>

namespace corral::net {

ZmqClientListener::ZmqClientListener(zmq::context_t& context)
    : ClientListener(ClientWire::kZmq), router_(context, zmq::socket_type::router) {}

Result<std::unique_ptr<ZmqClientListener>> ZmqClientListener::create(
    zmq::context_t& context, const ClientListenerOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.error();
  Result<Endpoint> endpoint = parse_endpoint(options.bind_endpoint, EndpointUse::kBind);
  if (!endpoint.ok()) return endpoint.error();
  std::unique_ptr<ZmqClientListener> l(new ZmqClientListener(context));
  l->max_kept_request_bytes_ = options.max_kept_request_bytes;
  l->deliver_multipart_ = options.deliver_multipart;
  set_common_options(l->router_);
  l->router_.set(zmq::sockopt::router_mandatory, true);
  l->router_.set(zmq::sockopt::maxmsgsize, options.max_request_bytes);
  l->router_.set(zmq::sockopt::sndhwm, options.max_queued_replies_per_connection);
  l->router_.set(zmq::sockopt::rcvhwm, options.max_queued_requests_per_connection);
  if (options.curve) {
    CurveServerKeys keys = *options.curve;
    if (keys.zap_domain.empty()) keys.zap_domain = kClientZapDomain;
    if (Status s = set_curve_server(l->router_, keys); !s.ok()) return s.error();
  }
  Result<Endpoint> bound = bind_and_read_back(l->router_, *endpoint);
  if (!bound.ok()) return bound.error();
  l->bound_ = *bound;
  return l;
}

size_t ZmqClientListener::watch_with(Poller& poller) {
  return poller.add(router_, Tracking::kOwnerReportsUse);
}

size_t ZmqClientListener::receive(size_t max_requests, size_t max_bytes,
                               std::vector<ClientRequest>& out) {
  size_t count = 0;
  size_t bytes = 0;
  zmq::message_t id_frame;
  zmq::message_t payload;
  drained_ = false;
  for (size_t handled = 0; handled < max_requests && bytes < max_bytes; ++handled) {
    const RoutedReceive got = receive_routed(router_, id_frame, payload);
    if (got == RoutedReceive::kNothing) {
      drained_ = true;
      break;
    }
    if (got == RoutedReceive::kMalformed ||
        (got == RoutedReceive::kMultipart && !deliver_multipart_)) {
      ++stats_.dropped_malformed;
      continue;
    }
    ClientRequest& req = out.emplace_back();
    req.connection.routing_id = id_frame.to_string();
    req.wire_bytes = payload.size();
    req.multipart = got == RoutedReceive::kMultipart;
    if (const char* user = zmq_msg_gets(payload.handle(), "User-Id")) req.user = user;
    const size_t kept = payload.size() > max_kept_request_bytes_
                            ? std::min(payload.size(), kKeptPrefixBytes)
                            : payload.size();
    req.payload.assign(payload.data<char>(), kept);
    bytes += kept;
    ++stats_.received;
    ++count;
  }
  return count;
}

ClientSendResult ZmqClientListener::send(const ConnectionId& connection, std::string_view bytes) {
  // With ZMQ_ROUTER_MANDATORY the routing frame fails with EHOSTUNREACH for
  // an unknown connection and EAGAIN for a full one; once it is accepted the
  // payload frame is accepted too.
  const std::string& id = connection.routing_id;
  drained_ = false;
  if (zmq_send(router_.handle(), id.data(), id.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) {
    return errno == EAGAIN ? ClientSendResult::kBackpressure : ClientSendResult::kGone;
  }
  // Only a context being shut down fails here.
  if (zmq_send(router_.handle(), bytes.data(), bytes.size(), ZMQ_DONTWAIT) < 0) {
    return ClientSendResult::kGone;
  }
  ++stats_.sent;
  return ClientSendResult::kSent;
}

namespace {

// A message body handed to ZeroMQ: kept alive until ZeroMQ's I/O thread
// calls release_counted, which also lowers the connection's count.
struct CountedBody {
  std::string bytes;
  QueuedBytes queued;
  QueuedBytes total;
};

void release_counted(void* /*data*/, void* hint) {
  auto* body = static_cast<CountedBody*>(hint);
  const auto size = static_cast<int64_t>(body->bytes.size());
  body->queued->fetch_sub(size, std::memory_order_relaxed);
  body->total->fetch_sub(size, std::memory_order_relaxed);
  delete body;
}

}  // namespace

ClientSendResult ZmqClientListener::send_counted(const ConnectionId& connection, std::string& bytes,
                                              const QueuedBytes& queued) {
  const std::string& id = connection.routing_id;
  drained_ = false;
  if (zmq_send(router_.handle(), id.data(), id.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) {
    return errno == EAGAIN ? ClientSendResult::kBackpressure : ClientSendResult::kGone;
  }
  auto* body = new CountedBody{std::move(bytes), queued, queued_total_};
  const auto size = static_cast<int64_t>(body->bytes.size());
  queued->fetch_add(size, std::memory_order_relaxed);
  queued_total_->fetch_add(size, std::memory_order_relaxed);
  zmq_msg_t msg;
  if (zmq_msg_init_data(&msg, body->bytes.data(), body->bytes.size(), release_counted, body) != 0) {
    queued->fetch_sub(size, std::memory_order_relaxed);
    queued_total_->fetch_sub(size, std::memory_order_relaxed);
    delete body;
    return ClientSendResult::kGone;
  }
  // Only a context being shut down fails here; closing the message releases it.
  if (zmq_msg_send(&msg, router_.handle(), ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&msg);
    return ClientSendResult::kGone;
  }
  ++stats_.sent;
  return ClientSendResult::kSent;
}

}  // namespace corral::net
