// How a member joins an existing cluster (--initial-cluster-state existing,
// empty data dir) and learns the id the leader gave it at `member add`.
//
// The joiner binds its peer endpoint with a provisional id (random, only a
// ZeroMQ routing id) and sends a query to every other peer URL of its
// --initial-cluster, again every kJoinQueryRetryMs. A member that has a
// member with the joiner's peer URL in its table answers through its usual
// link to that member, which reaches the joiner's endpoint: with the
// member's record when the name matches, with a refusal naming the member
// that owns the URL when it does not. A member that knows no such URL can
// reach nobody and stays silent. The joiner takes the first acceptance; it
// gives up with the refusals it heard (or with "nobody answered") at the
// deadline, having written nothing. The joiner then starts as that id,
// and catches up from a snapshot like any new member.
//
// Peer frames (beside the raft frames of node_loop.h; a flat Cap'n Proto
// message never starts with these 4 bytes):
//   query:   kJoinQueryTag  + a flat api Member {name, peerUrls: [its URL]}
//   answer:  kJoinAnswerTag + a flat api ServerMessage: a Response whose
//            header.clusterId is the cluster's, and either memberAdd
//            {member: the joiner's record, members: the member table} or
//            error {code, message} (a refusal).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/net/socket_options.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/server/curve_setup.h"
#include "coordinator/server/members.h"

namespace corral::server {

inline constexpr std::string_view kJoinQueryTag{"\xfd\xff\xff\xff", 4};
inline constexpr std::string_view kJoinAnswerTag{"\xfc\xff\xff\xff", 4};
inline constexpr std::chrono::milliseconds kJoinQueryRetryMs{200};
// A joiner waits at least this long (and 10 election timeouts when longer).
inline constexpr std::chrono::milliseconds kMinJoinTimeoutMs{5000};
inline constexpr int kJoinTimeoutElections = 10;

struct JoinRequest {
  std::string name;
  std::string advertise_peer;  // the URL the cluster knows the member by
  std::string listen_peer;     // what to bind meanwhile
  std::vector<std::string> contacts;  // the other members' peer URLs
  // CURVE on: this member's keys, and each contact's listed public key
  // (same order as contacts).
  std::optional<net::CurveKeyPair> curve;
  std::vector<std::string> contact_keys;
  net::PeerWire peer_wire = net::PeerWire::kAuto;
  std::chrono::milliseconds timeout{kMinJoinTimeoutMs};
  // Past `timeout`, waiting goes on up to this long in all while the
  // connection to a contact that is not asking the same question (starting
  // too) is up: a member runs there and will answer, on a loaded machine
  // maybe seconds late. Zero: `timeout` only.
  std::chrono::milliseconds timeout_while_connected{0};
  bool log_joining = true;  // false: the caller says why it asks
};

struct JoinResult {
  uint64_t cluster_id = 0;
  MemberInfo self;
  std::vector<MemberInfo> members;
};

// Every member but `self_name` as a contact (its first peer URL) and, with
// CURVE, this member's keys and each contact's listed public key.
Status add_contacts(JoinRequest& request, const std::vector<MemberInfo>& members, std::string_view self_name,
                    const CurveSetup* curve);

// Blocks up to request.timeout (or timeout_while_connected). kBadRequest for a definite refusal or no
// contacts, kUnavailable when nobody answered; the messages say what to do.
Result<JoinResult> discover_membership(zmq::context_t& context, const JoinRequest& request);

// The answering side: the frame for a query and the member to send it to
// (0: no member has the queried URL; nothing to send).
struct JoinReply {
  uint64_t to = 0;
  std::string frame;
};
JoinReply answer_join_query(std::string_view query, uint64_t cluster_id,
                            const std::map<uint64_t, MemberInfo>& members);

}  // namespace corral::server
