// Telling a removed member that it was removed, when it comes back (its
// data dir kept its old id; it was down when the removal committed, so it
// never applied it). Peers drop every message from a removed id; this is
// what makes it stop instead of campaigning unheard forever (etcd answers
// it with 410 Gone).
//
// On a message from a removed id the node calls notice(): the notifier links
// to the member's last peer URL (from the removed table) and sends it
//   kRemovedTag + the removed id as 8 bytes little-endian
// at most every kRemovedNoticeIntervalMs. A member that receives a notice
// naming its own id stops as if it had applied its removal (exit 3). At most
// kMaxRemovedNotified members are linked at once; a link idle for
// kRemovedLinkIdleMs is dropped. A URL a current member uses is never
// linked: that member, not the removed one, listens there.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "coordinator/net/peer_transport.h"
#include "coordinator/server/members.h"

namespace corral::server {

inline constexpr std::string_view kRemovedTag{"\xfb\xff\xff\xff", 4};
inline constexpr std::chrono::milliseconds kRemovedNoticeIntervalMs{500};
inline constexpr std::chrono::milliseconds kRemovedLinkIdleMs{30'000};
inline constexpr size_t kMaxRemovedNotified = 8;

std::string removed_notice(uint64_t id);
// The id a notice names, or 0 for bytes that are not one.
uint64_t removed_notice_id(std::string_view frame);

class RemovedNotifier {
 public:
  using Clock = std::chrono::steady_clock;

  // A message came from `removed` (its last record). Links to it (within the
  // bounds above) and sends a notice when one is due.
  void notice(const MemberInfo& removed, const std::map<uint64_t, MemberInfo>& members,
              net::PeerTransport& transport, Clock::time_point now,
              std::optional<std::string> curve_key = std::nullopt);  // its listed key when CURVE is on
  // Drops idle links. Links the node's own peer sync removed are forgotten.
  void expire(net::PeerTransport& transport, Clock::time_point now);

 private:
  struct Link {
    Clock::time_point last_heard{};
    Clock::time_point last_sent{};
  };
  std::map<uint64_t, Link> links_;
};

}  // namespace corral::server
