#include "coordinator/net/tcp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::net {

bool endpoint_to_sockaddr(const Endpoint& e, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof(out));
  if (e.ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(e.port);
    len = sizeof(sockaddr_in6);
    return ::inet_pton(AF_INET6, e.host.c_str(), &a->sin6_addr) == 1;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&out);
  a->sin_family = AF_INET;
  a->sin_port = htons(e.port);
  len = sizeof(sockaddr_in);
  return ::inet_pton(AF_INET, e.host.c_str(), &a->sin_addr) == 1;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<int> tcp_listen(const Endpoint& endpoint, int backlog, Endpoint& bound) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!endpoint_to_sockaddr(endpoint, addr, len)) {
    return make_error(ErrorCode::kBadRequest, "cannot bind " + endpoint.to_zmq() + ": not a numeric address");
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(ErrorCode::kUnavailable, errno_text("listener socket"));
  const int one = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, backlog) != 0) {
    Error e = make_error(ErrorCode::kUnavailable, errno_text("listener " + endpoint.to_zmq()));
    ::close(fd);
    return e;
  }
  sockaddr_storage got;
  socklen_t got_len = sizeof(got);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &got_len);
  bound = endpoint;
  bound.port = ntohs(got.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
  return fd;
}

int tcp_connect_start(const Endpoint& endpoint) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!endpoint_to_sockaddr(endpoint, addr, len)) {
    errno = EINVAL;
    return -1;
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  tcp_no_delay(fd);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int tcp_connect_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

void tcp_no_delay(int fd) {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

std::string tcp_remote_address(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return "unknown";
  char host[INET6_ADDRSTRLEN] = {};
  Endpoint e;
  if (a.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
    if (!::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof(host))) return "unknown";
    e.port = ntohs(v4.sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
    if (!::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof(host))) return "unknown";
    e.port = ntohs(v6.sin6_port);
    e.ipv6 = true;
  } else {
    return "unknown";
  }
  e.host = host;
  return e.host_port();
}

}  // namespace corral::net
