// Refusing peer messages of another cluster (etcd: "cluster ID mismatch").
//
// Every peer message carries its sender's cluster id in its routing id
// (net/peer_transport.h). Members started with different --initial-cluster
// lists compute different cluster ids (members.h) but can share member ids
// (the same names): without this check they exchanged raft messages and
// formed a "cluster" whose members disagreed on what it was.
//
// A message whose cluster id is not the node's is dropped and logged (at
// most once per kMismatchLogIntervalMs per sender). When the sender is a
// member the node links to, it is answered with a notice, at most every
// kMismatchNoticeIntervalMs:
//   kClusterMismatchTag + the answering member's cluster id + the refused
//   cluster id (8 bytes little-endian each)
// A member that gets a notice naming its own cluster id stops with exit
// code 2 if it has never known a leader since it started: it is the one on
// the wrong side (a member of a working cluster has had a leader and keeps
// running, logging the notice). Messages without a cluster id (the short
// routing id) are dropped too, except join queries: a joiner does not know
// its cluster yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/net/peer_transport.h"

namespace corral::server {

inline constexpr std::string_view kClusterMismatchTag{"\xfa\xff\xff\xff", 4};
inline constexpr std::chrono::milliseconds kMismatchNoticeIntervalMs{500};
inline constexpr std::chrono::milliseconds kMismatchLogIntervalMs{5000};
// Senders remembered for rate limiting; past it the table starts over.
inline constexpr size_t kMaxMismatchSenders = 64;

struct ClusterMismatch {
  uint64_t theirs = 0;   // the cluster id of the member that refused
  uint64_t refused = 0;  // the cluster id it refused
};

std::string cluster_mismatch_notice(const ClusterMismatch& m);
// nullopt for bytes that are not a notice.
std::optional<ClusterMismatch> parse_cluster_mismatch_notice(std::string_view frame);

class ClusterIdGate {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ClusterIdGate(uint64_t cluster_id) : cluster_id_(cluster_id) {}

  // False: the message is of another cluster (or says none); it has been
  // logged and its sender answered as above.
  bool admit(const net::PeerMessage& pm, net::PeerTransport& transport, Clock::time_point now);

 private:
  struct Sender {
    Clock::time_point last_logged{};
    Clock::time_point last_noticed{};
  };
  uint64_t cluster_id_;
  std::map<uint64_t, Sender> senders_;
};

}  // namespace corral::server
