#include "coordinator/server/cluster_id_gate.h"

#include "coordinator/server/join_discovery.h"
#include "coordinator/server/log.h"

namespace corral::server {

namespace {

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64_le(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

}  // namespace

std::string cluster_mismatch_notice(const ClusterMismatch& m) {
  std::string out(kClusterMismatchTag);
  put_u64_le(out, m.theirs);
  put_u64_le(out, m.refused);
  return out;
}

std::optional<ClusterMismatch> parse_cluster_mismatch_notice(std::string_view frame) {
  if (!frame.starts_with(kClusterMismatchTag) || frame.size() != kClusterMismatchTag.size() + 16) return std::nullopt;
  return ClusterMismatch{get_u64_le(frame, kClusterMismatchTag.size()), get_u64_le(frame, kClusterMismatchTag.size() + 8)};
}

bool ClusterIdGate::admit(const net::PeerMessage& pm, net::PeerTransport& transport, Clock::time_point now) {
  if (pm.cluster_id == cluster_id_) return true;
  if (pm.cluster_id == 0) return std::string_view(pm.bytes).starts_with(kJoinQueryTag);
  if (senders_.size() >= kMaxMismatchSenders && !senders_.count(pm.from)) senders_.clear();
  Sender& s = senders_[pm.from];
  if (now - s.last_logged >= kMismatchLogIntervalMs) {
    s.last_logged = now;
    log_warn("refused a message from member %016llx: cluster id mismatch (its cluster %016llx, ours %016llx); "
             "every member must be started with the same --initial-cluster",
             static_cast<unsigned long long>(pm.from), static_cast<unsigned long long>(pm.cluster_id),
             static_cast<unsigned long long>(cluster_id_));
  }
  if (transport.has_peer(pm.from) && now - s.last_noticed >= kMismatchNoticeIntervalMs) {
    s.last_noticed = now;
    (void)transport.send(pm.from, cluster_mismatch_notice({cluster_id_, pm.cluster_id}));
  }
  return false;
}

}  // namespace corral::server
