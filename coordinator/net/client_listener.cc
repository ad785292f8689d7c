#include "coordinator/net/client_listener.h"

#include "coordinator/net/tcp_client_listener.h"
#include "coordinator/net/zmq_client_listener.h"

namespace corral::net {
namespace {

Error bad(std::string what) { return make_error(ErrorCode::kBadRequest, std::move(what)); }

}  // namespace

const char* client_send_result_name(ClientSendResult result) {
  switch (result) {
    case ClientSendResult::kSent: return "sent";
    case ClientSendResult::kBackpressure: return "backpressure";
    case ClientSendResult::kGone: return "gone";
  }
  return "unknown";
}

Result<ClientWire> parse_client_wire(std::string_view text) {
  if (text == "auto") return ClientWire::kAuto;
  if (text == "tcp") return ClientWire::kTcp;
  if (text == "zmq") return ClientWire::kZmq;
  return bad("client wire '" + std::string(text) + "': expected auto, tcp or zmq");
}

const char* client_wire_name(ClientWire wire) {
  switch (wire) {
    case ClientWire::kAuto: return "auto";
    case ClientWire::kTcp: return "tcp";
    case ClientWire::kZmq: return "zmq";
  }
  return "unknown";
}

ClientWire resolve_client_wire(ClientWire wire, bool curve) {
  if (wire != ClientWire::kAuto) return wire;
  return curve ? ClientWire::kZmq : ClientWire::kTcp;
}

Status ClientListener::check_options(const ClientListenerOptions& options) {
  if (options.max_request_bytes <= 0 || options.max_queued_replies_per_connection <= 0 ||
      options.max_queued_requests_per_connection <= 0 || options.max_kept_request_bytes == 0 ||
      options.max_queued_reply_bytes_per_connection <= 0 || options.max_connections == 0 ||
      options.silence_timeout_ms <= 0) {
    return bad("client listener: bounds must be positive");
  }
  if (options.max_request_bytes > int64_t{UINT32_MAX}) return bad("client listener: max_request_bytes past 4 GiB");
  return {};
}

Result<std::unique_ptr<ClientListener>> ClientListener::create(zmq::context_t& context,
                                                               const ClientListenerOptions& options) {
  const ClientWire wire = resolve_client_wire(options.wire, options.curve.has_value());
  if (wire == ClientWire::kTcp) {
    auto l = TcpClientListener::create(options);
    if (!l.ok()) return l.error();
    return std::unique_ptr<ClientListener>(std::move(l).value());
  }
  auto l = ZmqClientListener::create(context, options);
  if (!l.ok()) return l.error();
  return std::unique_ptr<ClientListener>(std::move(l).value());
}

}  // namespace corral::net
