#include "coordinator/server/removed_notifier.h"

#include "coordinator/server/log.h"

namespace corral::server {

std::string removed_notice(uint64_t id) {
  std::string frame(kRemovedTag);
  for (int i = 0; i < 8; ++i) frame.push_back(static_cast<char>((id >> (8 * i)) & 0xff));
  return frame;
}

uint64_t removed_notice_id(std::string_view frame) {
  if (frame.size() != kRemovedTag.size() + 8 || !frame.starts_with(kRemovedTag)) return 0;
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) {
    id |= static_cast<uint64_t>(static_cast<unsigned char>(frame[kRemovedTag.size() + i])) << (8 * i);
  }
  return id;
}

void RemovedNotifier::notice(const MemberInfo& removed, const std::map<uint64_t, MemberInfo>& members,
                             net::PeerTransport& transport, Clock::time_point now,
                             std::optional<std::string> curve_key) {
  if (removed.peer_urls.empty() || members.count(removed.id)) return;
  for (const auto& [id, m] : members) {
    if (!m.peer_urls.empty() && m.peer_urls[0] == removed.peer_urls[0]) return;
  }
  auto it = links_.find(removed.id);
  if (it == links_.end()) {
    if (links_.size() >= kMaxRemovedNotified) return;
    it = links_.emplace(removed.id, Link{}).first;
    log_event("removed member %s (%016llx) is back: telling it to stop", removed.name.c_str(),
              static_cast<unsigned long long>(removed.id));
  }
  it->second.last_heard = now;
  if (!transport.has_peer(removed.id) && !transport.add_peer(removed.id, removed.peer_urls[0], curve_key).ok()) return;
  if (now - it->second.last_sent < kRemovedNoticeIntervalMs) return;
  // Until the link is up the send fails and the next message retries it.
  if (transport.send(removed.id, removed_notice(removed.id)) == net::PeerSendResult::kSent) {
    it->second.last_sent = now;
  }
}

void RemovedNotifier::expire(net::PeerTransport& transport, Clock::time_point now) {
  for (auto it = links_.begin(); it != links_.end();) {
    if (now - it->second.last_heard < kRemovedLinkIdleMs) {
      ++it;
      continue;
    }
    if (transport.has_peer(it->first)) (void)transport.remove_peer(it->first);
    it = links_.erase(it);
  }
}

}  // namespace corral::server
