#include "coordinator/server/members.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "coordinator/net/endpoint.h"
#include "schema/aligned_words.h"
#include "schema/api.capnp.h"

namespace corral::server {

namespace wire = corral::schema::api;

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

void append_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t nonzero(uint64_t id) { return id == 0 ? 1 : id; }

}  // namespace

std::string initial_cluster_token(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::string token;
  for (const auto& n : names) token += (token.empty() ? "" : ",") + n;
  return token;
}

uint64_t initial_member_id(std::string_view name, std::string_view cluster_token) {
  std::string bytes("corral-member");
  bytes.push_back('\0');
  bytes.append(name);
  bytes.push_back('\0');
  bytes.append(cluster_token);
  return nonzero(fnv1a64(bytes));
}

uint64_t legacy_member_id(std::string_view name) { return nonzero(fnv1a64(name)); }

Result<uint64_t> added_member_id(uint64_t cluster_id, uint64_t term, uint64_t index,
                                 std::string_view name,
                                 const std::function<bool(uint64_t)>& taken) {
  std::string bytes("corral-added-member");
  bytes.push_back('\0');
  append_u64(bytes, cluster_id);
  append_u64(bytes, term);
  append_u64(bytes, index);
  bytes.append(name);
  for (int attempt = 0; attempt < kMaxMemberIdAttempts; ++attempt) {
    uint64_t id = nonzero(fnv1a64(bytes));
    if (!taken(id)) return id;
    append_u64(bytes, id);  // the next candidate
  }
  return make_error(ErrorCode::kUnavailable, "no free member id found; retry the add");
}

Result<std::vector<MemberInfo>> parse_initial_cluster(std::string_view text) {
  std::vector<MemberInfo> out;
  std::set<std::string> names;
  std::map<std::string, std::string> name_by_url;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return make_error(ErrorCode::kBadRequest,
                        "initial-cluster entry '" + std::string(item) + "' is not name=url");
    }
    MemberInfo m;
    m.name = std::string(item.substr(0, eq));
    auto ep = net::parse_endpoint(item.substr(eq + 1), net::EndpointUse::kConnect);
    if (!ep.ok()) {
      return make_error(ErrorCode::kBadRequest,
                        "initial-cluster member '" + m.name + "': " + ep.error().message);
    }
    if (!names.insert(m.name).second) {
      return make_error(ErrorCode::kBadRequest, "initial-cluster names '" + m.name + "' twice");
    }
    auto [other, fresh] = name_by_url.emplace(ep->to_zmq(), m.name);
    if (!fresh) {
      return make_error(ErrorCode::kBadRequest, "initial-cluster members '" + other->second + "' and '" + m.name +
                                                    "' have the same peer URL " + other->first);
    }
    m.peer_urls.push_back(ep->to_zmq());
    out.push_back(std::move(m));
    if (out.size() > kMaxInitialClusterMembers) {
      return make_error(ErrorCode::kTooLarge, "initial-cluster has too many members");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::vector<std::string> all_names;
  for (const auto& m : out) all_names.push_back(m.name);
  const std::string token = initial_cluster_token(all_names);
  for (auto& m : out) m.id = initial_member_id(m.name, token);
  std::set<uint64_t> ids;
  for (const auto& m : out) {
    if (!ids.insert(m.id).second) {
      return make_error(ErrorCode::kBadRequest, "two member names hash to one id; rename one");
    }
  }
  return out;
}

uint64_t cluster_id_for(const std::vector<MemberInfo>& members) {
  std::vector<std::string> items;
  for (const auto& m : members) items.push_back(m.name + "=" + (m.peer_urls.empty() ? "" : m.peer_urls[0]));
  std::sort(items.begin(), items.end());
  std::string all;
  for (const auto& s : items) all += s + ",";
  return fnv1a64(all);
}

namespace {

std::string key_with_id(std::string_view prefix, uint64_t id) {
  std::string key(prefix);
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>((id >> (8 * i)) & 0xff));
  return key;
}

}  // namespace

std::string member_key(uint64_t id) { return key_with_id(kMemberKeyPrefix, id); }
std::string removed_member_key(uint64_t id) { return key_with_id(kRemovedMemberKeyPrefix, id); }

void fill_member(wire::Member::Builder out, const MemberInfo& member) {
  out.setId(member.id);
  out.setName(member.name);
  auto peers = out.initPeerUrls(member.peer_urls.size());
  for (size_t i = 0; i < member.peer_urls.size(); ++i) peers.set(i, member.peer_urls[i]);
  auto clients = out.initClientUrls(member.client_urls.size());
  for (size_t i = 0; i < member.client_urls.size(); ++i) clients.set(i, member.client_urls[i]);
  out.setIsLearner(member.is_learner);
  out.setApplyVersion(member.apply_version);
}

std::string encode_member(const MemberInfo& member) {
  capnp::MallocMessageBuilder message;
  fill_member(message.initRoot<wire::Member>(), member);
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<MemberInfo> decode_member(std::string_view bytes) {
  auto words = schema::aligned_words(bytes);
  if (!words) return make_error(ErrorCode::kBadRequest, "member record has a bad length");
  try {
    capnp::FlatArrayMessageReader reader(words->asPtr());
    auto m = reader.getRoot<wire::Member>();
    MemberInfo out;
    out.id = m.getId();
    out.name = m.getName();
    for (auto u : m.getPeerUrls()) out.peer_urls.emplace_back(u);
    for (auto u : m.getClientUrls()) out.client_urls.emplace_back(u);
    out.is_learner = m.getIsLearner();
    out.apply_version = m.getApplyVersion();
    return out;
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::kBadRequest,
                      std::string("member record: ") + e.getDescription().cStr());
  }
}

}  // namespace corral::server
