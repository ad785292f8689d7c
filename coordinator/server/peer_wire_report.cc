#include "coordinator/server/peer_wire_report.h"

#include <algorithm>
#include <cstdio>

#include "coordinator/net/endpoint.h"

namespace corral::server {
namespace {

// "127.0.0.1:41234" -> "127.0.0.1", "[::1]:41234" -> "[::1]": a host's
// every connection comes from another port.
std::string host_of(const std::string& remote) {
  const auto colon = remote.rfind(':');
  return colon == std::string::npos ? remote : remote.substr(0, colon);
}

std::string hex_id(net::PeerId id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace

std::optional<std::string> PeerWireReport::line(const net::PeerWireTrouble& trouble, std::string_view peer_name,
                                                std::string_view own_wire, Clock::time_point now) {
  const std::string key = trouble.peer != 0 ? "peer " + hex_id(trouble.peer) : "host " + host_of(trouble.remote);
  if (auto it = last_.find(key); it != last_.end() && now - it->second < kWindow) return std::nullopt;
  if (last_.size() >= kMaxKeys && !last_.count(key)) {
    last_.erase(std::min_element(last_.begin(), last_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
  last_[key] = now;
  std::string who;
  if (trouble.peer != 0) {
    who = "member " + (peer_name.empty() ? std::string("?") : std::string(peer_name)) + " (" + hex_id(trouble.peer) + ")";
  } else {
    who = "a connection from " + trouble.remote +
          (peer_name.empty() ? std::string() : " (member " + std::string(peer_name) + "'s host)") +
          " to the peer port";
  }
  if (trouble.other_version) return "peer wire: " + who + " " + trouble.what;
  return "peer wire: " + who + " " + trouble.what + "; every member must run with the same --peer-wire (auto is " +
         "zmq with CURVE, tcp without), and this member's is " + std::string(own_wire);
}

std::string PeerWireReport::member_at(std::string_view remote, const std::map<uint64_t, MemberInfo>& members,
                                      uint64_t self) {
  auto from = net::parse_endpoint("tcp://" + std::string(remote), net::EndpointUse::kConnect);
  if (!from.ok()) return {};
  std::string found;
  for (const auto& [id, m] : members) {
    if (id == self) continue;
    for (const auto& url : m.peer_urls) {
      auto at = net::parse_endpoint(url, net::EndpointUse::kConnect);
      if (!at.ok() || at->host != from->host) continue;
      if (!found.empty()) return {};  // several members on that host
      found = m.name;
      break;
    }
  }
  return found;
}

}  // namespace corral::server
