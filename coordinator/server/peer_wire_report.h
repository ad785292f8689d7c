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

 private:
  std::map<std::string, Clock::time_point> last_;  // key -> time of its last line
};

}  // namespace corral::server
