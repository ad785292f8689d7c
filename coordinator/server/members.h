// Cluster members: ids, the --initial-cluster syntax, and the stored record.
//
// Member ids are derived from names, so every member computes the same ids
// from the same --initial-cluster without talking: id = FNV-1a 64 of the
// name's bytes (0 is mapped to 1, since 0 means "none" to raft). The cluster
// id is FNV-1a 64 of the initial-cluster text with its entries sorted.
//
// The member table is part of the replicated state: space kKvMeta, key
// "member/" + 8-byte big-endian id -> a flat schema/api.capnp Member. It is
// written by bootstrap (the initial cluster, the same on every member) and by
// the apply of membership conf changes, and travels in snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "schema/api.capnp.h"

namespace corral::server {

inline constexpr std::string_view kMemberKeyPrefix = "member/";
inline constexpr size_t kMaxInitialClusterMembers = 64;

struct MemberInfo {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
  bool operator==(const MemberInfo&) const = default;
};

uint64_t member_id_for_name(std::string_view name);
uint64_t fnv1a64(std::string_view bytes);

// "n1=tcp://127.0.0.1:2380,n2=127.0.0.1:2381": names unique and non-empty,
// URLs valid peer endpoints (normalised to tcp://IP:PORT). kBadRequest otherwise.
Result<std::vector<MemberInfo>> parse_initial_cluster(std::string_view text);
uint64_t cluster_id_for(const std::vector<MemberInfo>& members);

std::string member_key(uint64_t id);
// The api Member of `member`: what member list answers and what the stored
// record (encode_member) holds.
void fill_member(corral::schema::api::Member::Builder out, const MemberInfo& member);
std::string encode_member(const MemberInfo& member);
// kBadRequest for bytes that are not a Member record.
Result<MemberInfo> decode_member(std::string_view bytes);

}  // namespace corral::server
