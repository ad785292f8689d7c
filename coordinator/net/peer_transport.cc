#include "coordinator/net/peer_transport.h"

#include "coordinator/net/tcp_peer_transport.h"
#include "coordinator/net/zmq_peer_transport.h"

namespace corral::net {
namespace {

Error bad(std::string what) { return make_error(ErrorCode::kBadRequest, std::move(what)); }

}  // namespace

const char* peer_send_result_name(PeerSendResult result) {
  switch (result) {
    case PeerSendResult::kSent: return "sent";
    case PeerSendResult::kUnknownPeer: return "unknown_peer";
    case PeerSendResult::kUnreachable: return "unreachable";
    case PeerSendResult::kBackpressure: return "backpressure";
  }
  return "unknown";
}

Result<PeerWire> parse_peer_wire(std::string_view text) {
  if (text == "auto") return PeerWire::kAuto;
  if (text == "tcp") return PeerWire::kTcp;
  if (text == "zmq") return PeerWire::kZmq;
  return bad("peer wire '" + std::string(text) + "': expected auto, tcp or zmq");
}

const char* peer_wire_name(PeerWire wire) {
  switch (wire) {
    case PeerWire::kAuto: return "auto";
    case PeerWire::kTcp: return "tcp";
    case PeerWire::kZmq: return "zmq";
  }
  return "unknown";
}

Status PeerTransport::check_options(const PeerTransportOptions& options) {
  if (options.self_id == 0) return bad("peer transport: self_id must not be 0");
  if (options.max_queued_messages_per_peer <= 0 || options.max_inbound_queued_messages_per_peer <= 0) {
    return bad("peer transport: queue bounds must be positive");
  }
  if (options.max_message_bytes <= 0) return bad("peer transport: max_message_bytes <= 0");
  if (options.reconnect_interval_ms <= 0 || options.reconnect_interval_max_ms < options.reconnect_interval_ms) {
    return bad("peer transport: need 0 < reconnect_interval_ms <= reconnect_interval_max_ms");
  }
  if (options.heartbeat_interval_ms <= 0 || options.heartbeat_timeout_ms < options.heartbeat_interval_ms) {
    return bad("peer transport: need 0 < heartbeat_interval_ms <= heartbeat_timeout_ms");
  }
  return {};
}

Result<Endpoint> PeerTransport::check_new_peer(PeerId id, bool known, std::string_view endpoint) const {
  if (id == 0) return bad("add_peer: peer id 0 is not valid");
  if (id == options_.self_id) return bad("add_peer: peer id is our own id");
  if (known) return bad("add_peer: peer " + std::to_string(id) + " already added");
  return parse_endpoint(endpoint, EndpointUse::kConnect);
}

Result<std::unique_ptr<PeerTransport>> PeerTransport::create(zmq::context_t& context,
                                                             const PeerTransportOptions& options) {
  PeerWire wire = options.wire;
  // auto: plain TCP (the fastest), unless CURVE is asked for, which only
  // ZeroMQ has.
  if (wire == PeerWire::kAuto) wire = options.curve ? PeerWire::kZmq : PeerWire::kTcp;
  if (wire == PeerWire::kTcp) {
    if (options.curve) return bad("peer transport: CURVE needs the zmq peer wire (--peer-wire zmq or auto)");
    auto t = TcpPeerTransport::create(options);
    if (!t.ok()) return t.error();
    return std::unique_ptr<PeerTransport>(std::move(t).value());
  }
  auto t = ZmqPeerTransport::create(context, options);
  if (!t.ok()) return t.error();
  return std::unique_ptr<PeerTransport>(std::move(t).value());
}

}  // namespace corral::net
