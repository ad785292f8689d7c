// The log lines for peer wire troubles (net/peer_transport.h,
// PeerWireTrouble): a member on another --peer-wire is otherwise cut off
// without a word in any log. One line per peer, or per remote host for
// connections opened to us, per kWindow: a wrong link is tried again every
// few seconds, and the log must not fill with it. Clock-free: the caller
// passes the time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/net/peer_transport.h"
#include "coordinator/server/members.h"

namespace corral::server {

class PeerWireReport {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kWindow{60};
  // Peers and hosts remembered; past it the oldest line's key is forgotten.
  static constexpr size_t kMaxKeys = 64;

  // The line to log for `trouble` (`peer_name`: the member's name, empty if
  // unknown; `own_wire`: this member's peer wire), or nullopt within kWindow
  // of the last line about the same peer or host.
  std::optional<std::string> line(const net::PeerWireTrouble& trouble, std::string_view peer_name,
                                  std::string_view own_wire, Clock::time_point now);

  // For a connection opened to us (trouble.peer 0): the name of the one
  // member other than `self` whose peer URL is on the connection's host,
  // or empty when none is, or several are (members on one host, as on
  // loopback in tests: the port of a connection is no member's).
  static std::string member_at(std::string_view remote, const std::map<uint64_t, MemberInfo>& members,
                               uint64_t self);

 private:
  std::map<std::string, Clock::time_point> last_;  // key -> time of its last line
};

}  // namespace corral::server
