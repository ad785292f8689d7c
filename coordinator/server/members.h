// Cluster members: ids, the --initial-cluster syntax, and the stored record.
//
// Member ids are unique for the life of a cluster and never reused:
//  - The initial members compute theirs without talking, from the same
//    --initial-cluster: id = FNV-1a 64 of "corral-member" 0 name 0 and the
//    cluster token (the initial names, sorted; initial_cluster_token); 0 is
//    mapped to 1, since 0 means "none" to raft. The cluster id is FNV-1a 64
//    of the initial-cluster text with its entries sorted.
//  - A member added later gets an id chosen by the leader when it proposes
//    the add (added_member_id): a hash of the cluster id, the leader's term
//    and the index the proposal will take, and the name; re-adding a name
//    gives a new id. The joining member learns it from the cluster
//    (join_discovery.h).
//  - Removed ids are remembered (the removed table below) and refused:
//    apply turns an add of a known or removed id into a no-op, peers drop
//    a removed member's messages and tell it to stop.
//
// The member table is part of the replicated state: space kKvMeta, key
// "member/" + 8-byte big-endian id -> a flat schema/api.capnp Member. It is
// written by bootstrap (the initial cluster, the same on every member) and by
// the apply of membership conf changes, and travels in snapshots. The
// removed table sits beside it: key "removed/" + 8-byte big-endian id -> the
// member's last Member record (name and peer URLs: where to tell it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "schema/api.capnp.h"

namespace corral::server {

inline constexpr std::string_view kMemberKeyPrefix = "member/";
inline constexpr std::string_view kRemovedMemberKeyPrefix = "removed/";
// Fresh ids tried for one add before it is refused (each taken one is a
// 64-bit hash collision, so more than one try is already rare).
inline constexpr int kMaxMemberIdAttempts = 16;
inline constexpr size_t kMaxInitialClusterMembers = 64;

struct MemberInfo {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
  uint32_t apply_version = 0;  // as published by the member (apply_version.h); 0: none
  bool operator==(const MemberInfo&) const = default;
};

uint64_t fnv1a64(std::string_view bytes);
// The names of the initial members, sorted, comma-separated: what makes
// the initial ids of one cluster differ from another's, and is known before
// any socket is bound (the id is the peer transport's routing id).
std::string initial_cluster_token(std::vector<std::string> names);
uint64_t initial_member_id(std::string_view name, std::string_view cluster_token);
// The id data dirs written before ids were unique used (a hash of the name
// alone): a member restarted from such a dir keeps it.
uint64_t legacy_member_id(std::string_view name);
// The id the leader gives a member it adds in `term` at raft index `index`:
// the first of a sequence of hashes that `taken` (current and removed ids)
// refuses not. kUnavailable after kMaxMemberIdAttempts taken ones.
Result<uint64_t> added_member_id(uint64_t cluster_id, uint64_t term, uint64_t index,
                                 std::string_view name,
                                 const std::function<bool(uint64_t)>& taken);

// "n1=tcp://127.0.0.1:2380,n2=127.0.0.1:2381": names unique and non-empty,
// URLs valid peer endpoints (normalised to tcp://IP:PORT), no URL twice, ids
// initial_member_id(name, token of its names). kBadRequest otherwise.
Result<std::vector<MemberInfo>> parse_initial_cluster(std::string_view text);
uint64_t cluster_id_for(const std::vector<MemberInfo>& members);

std::string member_key(uint64_t id);
std::string removed_member_key(uint64_t id);
// The api Member of `member`: what member list answers and what the stored
// record (encode_member) holds.
void fill_member(corral::schema::api::Member::Builder out, const MemberInfo& member);
std::string encode_member(const MemberInfo& member);
// kBadRequest for bytes that are not a Member record.
Result<MemberInfo> decode_member(std::string_view bytes);

}  // namespace corral::server
