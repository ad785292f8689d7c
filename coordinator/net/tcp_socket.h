// Plain TCP sockets for the wires that the owner's thread drives itself
// (the client wire and the peer wire): numeric addresses, a listening socket, a
// non-blocking connect. Every socket is non-blocking and close-on-exec.
#pragma once

#include <sys/socket.h>

#include <string>

#include "coordinator/base/error.h"
#include "coordinator/net/endpoint.h"

namespace corral::net {

// The endpoint as a socket address; false if its host is not numeric.
bool endpoint_to_sockaddr(const Endpoint& e, sockaddr_storage& out, socklen_t& len);
// A listening socket bound on `endpoint`; `bound` gets the endpoint really
// bound (port 0 resolved). kBadRequest for a host that is not numeric,
// kUnavailable if it cannot be bound.
Result<int> tcp_listen(const Endpoint& endpoint, int backlog, Endpoint& bound);
// A socket connecting to `endpoint` (connect(2) in progress or done), or -1
// with errno set (ECONNREFUSED among others).
int tcp_connect_start(const Endpoint& endpoint);
// The outcome of a connect in progress once the socket signalled: 0 or an errno.
int tcp_connect_error(int fd);
void tcp_no_delay(int fd);
// The connected socket's remote address as "IP:PORT" ("[IPv6]:PORT"), or
// "unknown" if the kernel does not say.
std::string tcp_remote_address(int fd);
std::string errno_text(const std::string& what);

}  // namespace corral::net
