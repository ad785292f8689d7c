#include "coordinator/net/client_connection.h"

#include "coordinator/net/tcp_client_connection.h"
#include "coordinator/net/zmq_client_connection.h"

namespace corral::net {

Status ClientConnection::check_options(const ClientConnectionOptions& options) {
  const auto bad = [](const char* what) { return make_error(ErrorCode::kBadRequest, what); };
  if (options.max_queued_requests <= 0 || options.max_queued_replies <= 0) {
    return bad("client connection: queue bounds must be positive");
  }
  if (options.max_reply_bytes == 0 || options.max_reply_bytes < kUnboundedReplyBytes) {
    return bad("client connection: max_reply_bytes must be positive or -1");
  }
  if (options.reconnect_interval_ms <= 0 || options.reconnect_interval_max_ms < options.reconnect_interval_ms) {
    return bad("client connection: need 0 < reconnect_interval_ms <= _max_ms");
  }
  if (options.heartbeat_interval_ms <= 0 || options.heartbeat_timeout_ms < options.heartbeat_interval_ms) {
    return bad("client connection: need 0 < heartbeat_interval_ms <= heartbeat_timeout_ms");
  }
  return {};
}

Result<std::unique_ptr<ClientConnection>> ClientConnection::create(zmq::context_t& context,
                                                                   const ClientConnectionOptions& options) {
  if (resolve_client_wire(options.wire, options.curve.has_value()) == ClientWire::kTcp) {
    auto c = TcpClientConnection::create(options);
    if (!c.ok()) return c.error();
    return std::unique_ptr<ClientConnection>(std::move(c).value());
  }
  auto c = ZmqClientConnection::create(context, options);
  if (!c.ok()) return c.error();
  return std::unique_ptr<ClientConnection>(std::move(c).value());
}

}  // namespace corral::net
