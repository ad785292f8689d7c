#include "cli/unreachable_diagnosis.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace corral::cli {

namespace {

// True if a TCP connection to HOST:PORT ("tcp://" optional, IPv4) is
// accepted within the timeout.
bool tcp_accepts(std::string endpoint) {
  if (endpoint.rfind("tcp://", 0) == 0) endpoint = endpoint.substr(6);
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return false;
  int port = 0;
  const std::string port_text = endpoint.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || port <= 0 || port > 65535) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string host = endpoint.substr(0, colon);
  if (host == "localhost" || host == "*") host = "127.0.0.1";
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool open = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    open = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(kDiagnosisTcpTimeoutMs.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      open = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return open;
}

}  // namespace

std::vector<EndpointFinding> probe_endpoints(client::Client& client, const std::vector<std::string>& endpoints) {
  client::CallOptions co;
  co.timeout = kDiagnosisStatusTimeoutMs;
  std::vector<EndpointFinding> out;
  for (const std::string& ep : endpoints) {
    EndpointFinding f;
    f.endpoint = ep;
    auto st = client.status_of(ep, co);
    if (st.ok()) {
      f.answered = true;
      f.leader = st->leader;
    } else {
      f.tcp_open = tcp_accepts(ep);
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string explain(const std::vector<EndpointFinding>& findings) {
  size_t answered = 0, with_leader = 0;
  for (const auto& f : findings) {
    answered += f.answered ? 1 : 0;
    with_leader += f.answered && f.leader != 0 ? 1 : 0;
  }
  if (answered == findings.size() && with_leader == answered) return {};
  std::string out;
  if (answered > 0 && with_leader == 0) {
    out += "no leader: " + std::to_string(answered) + " of " + std::to_string(findings.size()) +
           " members reachable, and none knows a leader (a quorum of the cluster's members must run and reach each "
           "other)\n";
  } else if (answered == 0) {
    out += "no member reachable: 0 of " + std::to_string(findings.size()) + " endpoints answered\n";
  }
  for (const auto& f : findings) {
    if (f.answered) {
      out += "  " + f.endpoint + ": a corral member, " + (f.leader ? "it knows a leader" : "it knows no leader") + "\n";
    } else if (f.tcp_open) {
      out += "  " + f.endpoint + ": accepts connections but did not answer as a corral member (another service on that port, or a member on the other --client-wire?)\n";
    } else {
      out += "  " + f.endpoint + ": nothing accepts connections there (member down, or a wrong address)\n";
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace corral::cli
