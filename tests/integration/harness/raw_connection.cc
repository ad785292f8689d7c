#include "tests/integration/harness/raw_connection.h"

#include <capnp/serialize.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace corral::integration {

std::string frame_bytes(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

RawConnection::RawConnection(zmq::context_t& ctx, const std::string& endpoint, RawConnectionOptions options)
    : socket(ctx, zmq::socket_type::dealer) {
  if (options.wire == "tcp") {
    socket.close();
    const std::string hostport = endpoint.rfind("tcp://", 0) == 0 ? endpoint.substr(6) : endpoint;
    const size_t colon = hostport.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
    if (::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
      throw std::runtime_error("raw connection: not an IPv4 endpoint: " + endpoint);
    }
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (options.receive_buffer_bytes > 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer_bytes, sizeof(options.receive_buffer_bytes));
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      throw std::runtime_error("raw connection: cannot connect to " + endpoint);
    }
    set_receive_timeout(options.receive_timeout);
    return;
  }
  socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(options.receive_timeout.count()));
  socket.set(zmq::sockopt::linger, 0);
  if (options.receive_hwm > 0) socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
  if (options.receive_buffer_bytes > 0) socket.set(zmq::sockopt::rcvbuf, options.receive_buffer_bytes);
  socket.connect(endpoint);
}

RawConnection::~RawConnection() {
  if (fd >= 0) ::close(fd);
}

void RawConnection::set_receive_timeout(std::chrono::milliseconds timeout) {
  if (fd < 0) {
    socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
    return;
  }
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void RawConnection::send(const std::string& bytes) {
  if (fd < 0) {
    socket.send(zmq::buffer(bytes), zmq::send_flags::none);
    return;
  }
  const auto n = static_cast<uint32_t>(bytes.size());
  std::string framed{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                     static_cast<char>(n)};
  framed += bytes;
  if (::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(framed.size())) {
    throw std::runtime_error("raw connection: send failed");
  }
}

// One frame, or nullopt at the receive timeout or a closed connection.
std::optional<std::string> RawConnection::receive_frame() {
  if (fd < 0) {
    zmq::message_t m;
    if (!socket.recv(m, zmq::recv_flags::none)) return std::nullopt;
    return m.to_string();
  }
  while (true) {
    unsigned char header[4];
    if (::recv(fd, header, sizeof(header), MSG_WAITALL) != static_cast<ssize_t>(sizeof(header))) return std::nullopt;
    const size_t n = (size_t{header[0]} << 24) | (size_t{header[1]} << 16) | (size_t{header[2]} << 8) | header[3];
    std::string body(n, '\0');
    if (n > 0 && ::recv(fd, body.data(), n, MSG_WAITALL) != static_cast<ssize_t>(n)) return std::nullopt;
    if (n > 0) return body;  // an empty frame answers a heartbeat: never one here, but skipped
  }
}

void RawConnection::send_request(uint64_t id, const client::RequestBody& body) {
  auto bytes = client::encode_request(id, body);
  if (!bytes.ok()) throw std::runtime_error("request does not encode: " + client::to_string(bytes.error()));
  send(bytes.value());
}

std::optional<client::ServerMessage> RawConnection::receive_any() {
  std::optional<std::string> m = receive_frame();
  if (!m) return std::nullopt;
  auto decoded = client::decode_server_message(*m);
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

std::optional<client::ResponseMessage> RawConnection::receive() {
  auto m = receive_any();
  if (!m || !std::holds_alternative<client::ResponseMessage>(*m)) return std::nullopt;
  return std::get<client::ResponseMessage>(std::move(*m));
}

}  // namespace corral::integration
