#include "coordinator/server/peer_identity_gate.h"

#include <cstdio>

#include "coordinator/server/log.h"

namespace corral::server {

namespace {

std::string hex_id(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace

std::string peer_identity_refusal(uint64_t claimed_id, const std::string& proven_name,
                                  const std::map<uint64_t, MemberInfo>& members) {
  if (proven_name.empty()) return {};
  for (const auto& [id, m] : members) {
    if (m.name != proven_name) continue;
    if (id == claimed_id) return {};
    return "its key is member '" + proven_name + "' (" + hex_id(id) + ") but it claims member id " +
           hex_id(claimed_id);
  }
  auto claimed = members.find(claimed_id);
  if (claimed == members.end()) return {};
  return "its key is '" + proven_name + "', not member '" + claimed->second.name + "' whose id " +
         hex_id(claimed_id) + " it claims";
}

bool PeerIdentityGate::admit(const net::PeerMessage& pm, const std::map<uint64_t, MemberInfo>& members,
                             Clock::time_point now) {
  if (pm.user.empty()) return true;
  const std::string why = peer_identity_refusal(pm.from, pm.user, members);
  if (why.empty()) return true;
  ++refused_;
  const auto key = std::make_pair(pm.from, pm.user);
  if (last_logged_.size() >= kMaxIdentityLogSenders && !last_logged_.count(key)) last_logged_.clear();
  auto [it, first] = last_logged_.try_emplace(key, now);
  if (first || now - it->second >= kIdentityLogInterval) {
    it->second = now;
    log_warn("refused peer messages: %s (%llu refused so far)", why.c_str(),
             static_cast<unsigned long long>(refused_));
  }
  return false;
}

}  // namespace corral::server
