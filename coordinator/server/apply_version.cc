#include "coordinator/server/apply_version.h"

#include <algorithm>
#include <cstdlib>

#include "coordinator/server/log.h"

namespace corral::server {

namespace wire = corral::schema::api;

uint32_t apply_version_needed(wire::Request::Reader request) {
  switch (request.which()) {
    case wire::Request::LEASE_GRANT_BATCH: return 2;
    default: return 1;
  }
}

namespace {

uint32_t read_test_publish_apply_version() {
  const char* text = std::getenv(kTestPublishApplyVersionEnv);
  if (text == nullptr) return kApplyVersion;
  char* end = nullptr;
  const unsigned long asked = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || asked < 1 || asked > kApplyVersion) {
    log_warn("%s=%s ignored: not a version from 1 to %u", kTestPublishApplyVersionEnv, text, kApplyVersion);
    return kApplyVersion;
  }
  log_warn("%s: this member publishes apply version %lu instead of %u (a test hook, never set it otherwise)",
           kTestPublishApplyVersionEnv, asked, kApplyVersion);
  return static_cast<uint32_t>(asked);
}

}  // namespace

uint32_t published_apply_version() {
  static const uint32_t version = read_test_publish_apply_version();
  return version;
}

namespace {
uint32_t published(const MemberInfo& m) { return std::max<uint32_t>(m.apply_version, 1); }
}  // namespace

uint32_t cluster_apply_version(const std::map<uint64_t, MemberInfo>& members) {
  uint32_t lowest = kApplyVersion;
  for (const auto& [id, m] : members) lowest = std::min(lowest, published(m));
  return lowest;
}

std::string apply_version_refusal(const std::map<uint64_t, MemberInfo>& members, uint32_t needed) {
  for (const auto& [id, m] : members) {
    if (published(m) >= needed) continue;
    return "not every member can apply this request yet: member " + (m.name.empty() ? std::to_string(id) : m.name) +
           " applies entries of version " + std::to_string(published(m)) + ", this request needs " +
           std::to_string(needed) + "; upgrade it first";
  }
  return "not every member can apply this request yet";
}

void stop_on_unreadable_entry(uint64_t index, std::string_view why) {
  const std::string why_text(why);
  log_error("cannot apply committed entry %llu, stopping (exit %d): %s; its proposer runs a newer corrald: upgrade "
            "this member's binary and restart it (it applies the entry then; skipping it would leave this "
            "member's state different from its peers')",
            static_cast<unsigned long long>(index), kUnreadableEntryExitCode, why_text.c_str());
  flush_log();
  std::_Exit(kUnreadableEntryExitCode);
}

}  // namespace corral::server
