// What corrald refuses at start, before it binds a socket or writes a byte,
// each with a message that names the flag. The timing rules follow etcd's:
//  - election timeout (--tick-ms x --election-ticks) within
//    [kMinElectionTimeoutMs, kMaxElectionTimeoutMs]: below, a loop turn or
//    an fsync stall costs a leader; above, a dead leader goes unnoticed;
//  - --election-ticks >= kMinElectionToHeartbeatTicks x --heartbeat-ticks,
//    so a follower hears several heartbeats before it gives up on a leader;
//  - --request-timeout-ms >= kMinRequestTimeoutElections election timeouts,
//    so a write survives one leader election instead of timing out in it;
//  - --snapshot-catchup-entries >= 1: with 0 every follower that lags by a
//    single entry needs a whole snapshot.
#pragma once

#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/server/members.h"
#include "coordinator/server/node.h"

namespace corral::server {

inline constexpr int kMinElectionTimeoutMs = 50;
inline constexpr int kMaxElectionTimeoutMs = 50'000;
inline constexpr int kMinElectionToHeartbeatTicks = 5;
inline constexpr int kMinRequestTimeoutElections = 2;
inline constexpr uint64_t kMinSnapshotCatchupEntries = 1;

// kBadRequest naming the first flag that breaks a rule above (or is empty
// or out of range).
Status check_options(const NodeOptions& options);

// The member's own entry in --initial-cluster must be the peer URL it
// advertises: --advertise-peer when given, else --listen-peer (its port
// when listening on a wildcard address). kBadRequest otherwise.
Status check_own_peer_url(const std::vector<MemberInfo>& initial, std::string_view name,
                          std::string_view advertise_peer, const net::Endpoint& bound_peer);

}  // namespace corral::server
