#include "coordinator/server/startup_checks.h"

#include <string>

#include "coordinator/api/limits.h"

namespace corral::server {

namespace {

Error bad(std::string message) { return make_error(ErrorCode::kBadRequest, std::move(message)); }

bool is_wildcard(const net::Endpoint& ep) { return ep.host == "0.0.0.0" || ep.host == "::"; }

}  // namespace

Status check_options(const NodeOptions& o) {
  if (o.name.empty()) return bad("--name is empty");
  if (o.name.size() > api::kMaxMemberNameBytes) return bad("--name is longer than " + std::to_string(api::kMaxMemberNameBytes) + " bytes");
  if (o.name.find_first_of(",=") != std::string::npos) return bad("--name may not contain ',' or '=' (the --initial-cluster syntax)");
  if (o.tick_ms <= 0) return bad("--tick-ms must be > 0");
  if (o.heartbeat_ticks <= 0) return bad("--heartbeat-ticks must be > 0");
  if (o.election_ticks < kMinElectionToHeartbeatTicks * o.heartbeat_ticks) {
    return bad("--election-ticks (" + std::to_string(o.election_ticks) + ") must be at least " +
               std::to_string(kMinElectionToHeartbeatTicks) + " x --heartbeat-ticks (" +
               std::to_string(o.heartbeat_ticks) + ")");
  }
  const int64_t election_ms = int64_t{o.tick_ms} * o.election_ticks;
  if (election_ms < kMinElectionTimeoutMs || election_ms > kMaxElectionTimeoutMs) {
    return bad("election timeout --tick-ms x --election-ticks = " + std::to_string(election_ms) +
               " ms; it must be within " + std::to_string(kMinElectionTimeoutMs) + ".." +
               std::to_string(kMaxElectionTimeoutMs) + " ms");
  }
  if (o.request_timeout_ms < kMinRequestTimeoutElections * election_ms) {
    return bad("--request-timeout-ms (" + std::to_string(o.request_timeout_ms) + ") must be at least " +
               std::to_string(kMinRequestTimeoutElections) + " election timeouts (" +
               std::to_string(kMinRequestTimeoutElections * election_ms) + " ms)");
  }
  if (o.snapshot_count == 0) return bad("--snapshot-count must be > 0");
  if (o.snapshot_catchup_entries < kMinSnapshotCatchupEntries) {
    return bad("--snapshot-catchup-entries must be >= " + std::to_string(kMinSnapshotCatchupEntries) +
               " (with 0 every lagging follower needs a snapshot)");
  }
  for (const auto& [flag, text] : {std::pair<const char*, const std::string&>{"--listen-client", o.listen_client},
                                   {"--listen-peer", o.listen_peer}}) {
    auto parsed = net::parse_endpoint(text, net::EndpointUse::kBind);
    if (!parsed.ok()) return bad(std::string(flag) + ": " + parsed.error().message);
  }
  if (!o.advertise_peer.empty()) {
    auto parsed = net::parse_endpoint(o.advertise_peer, net::EndpointUse::kConnect);
    if (!parsed.ok()) return bad("--advertise-peer: " + parsed.error().message);
  }
  return Status();
}

Status check_own_peer_url(const std::vector<MemberInfo>& initial, std::string_view name,
                          std::string_view advertise_peer, const net::Endpoint& bound_peer) {
  const MemberInfo* self = nullptr;
  for (const auto& m : initial) {
    if (m.name == name) self = &m;
  }
  if (self == nullptr) return bad("--name " + std::string(name) + " is not in --initial-cluster");
  auto listed = net::parse_endpoint(self->peer_urls.at(0), net::EndpointUse::kConnect);
  if (!listed.ok()) return bad("--initial-cluster: " + listed.error().message);
  if (!advertise_peer.empty()) {
    auto adv = net::parse_endpoint(advertise_peer, net::EndpointUse::kConnect);
    if (adv.ok() && *adv == *listed) return Status();
    return bad("--initial-cluster gives " + std::string(name) + " the peer URL " + listed->to_zmq() +
               " but --advertise-peer is " + std::string(advertise_peer));
  }
  bool same = is_wildcard(bound_peer) ? listed->port == bound_peer.port : *listed == bound_peer;
  if (same) return Status();
  return bad("--initial-cluster gives " + std::string(name) + " the peer URL " + listed->to_zmq() +
             " but it listens on " + bound_peer.to_zmq() + " (--listen-peer; set --advertise-peer if it is reached by another address)");
}

}  // namespace corral::server
