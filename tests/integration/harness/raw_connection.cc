#include "tests/integration/harness/raw_connection.h"

#include <capnp/serialize.h>

#include <stdexcept>

namespace corral::integration {

std::string frame_bytes(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

RawConnection::RawConnection(zmq::context_t& ctx, const std::string& endpoint, RawConnectionOptions options)
    : socket(ctx, zmq::socket_type::dealer) {
  socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(options.receive_timeout.count()));
  socket.set(zmq::sockopt::linger, 0);
  if (options.receive_hwm > 0) socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
  if (options.receive_buffer_bytes > 0) socket.set(zmq::sockopt::rcvbuf, options.receive_buffer_bytes);
  socket.connect(endpoint);
}

void RawConnection::send(const std::string& bytes) { socket.send(zmq::buffer(bytes), zmq::send_flags::none); }

void RawConnection::send_request(uint64_t id, const client::RequestBody& body) {
  auto bytes = client::encode_request(id, body);
  if (!bytes.ok()) throw std::runtime_error("request does not encode: " + client::to_string(bytes.error()));
  send(bytes.value());
}

std::optional<client::ServerMessage> RawConnection::receive_any() {
  zmq::message_t m;
  if (!socket.recv(m, zmq::recv_flags::none)) return std::nullopt;
  auto decoded = client::decode_server_message(std::string_view(static_cast<const char*>(m.data()), m.size()));
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

std::optional<client::ResponseMessage> RawConnection::receive() {
  auto m = receive_any();
  if (!m || !std::holds_alternative<client::ResponseMessage>(*m)) return std::nullopt;
  return std::get<client::ResponseMessage>(std::move(*m));
}

}  // namespace corral::integration
