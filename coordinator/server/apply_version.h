// Which replicated entries a member's binary can apply, and the rule that
// keeps a cluster of mixed binaries (a rolling upgrade) from diverging.
//
// Every member applies every committed entry. A binary that meets an entry
// it cannot read (a request kind added after it was built, a command or
// attributes format of a newer version) must not skip or refuse it: its
// peers applied it, so its state would silently differ from theirs from
// then on. It stops instead (stop_on_unreadable_entry), without marking the
// entry applied; once the binary is upgraded it applies the entry on
// restart. To make that stop rare, each member publishes the version of
// entries it applies (kApplyVersion, in its member record, as it publishes
// its client URLs), and the leader proposes a request that needs a newer
// version (apply_version_needed) only once every member has published at
// least that version (cluster_apply_version); until then the client gets
// unknownRequest, as from an older leader, and can fall back. etcd does the
// same with its cluster version.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "coordinator/server/members.h"
#include "schema/api.capnp.h"

namespace corral::server {

// The newest entry version this binary applies. Version 1: everything up to
// the batched keep-alives (which are not replicated); 2: batched lease
// grants. Bump it with each new replicated request kind or entry format,
// and name that kind in apply_version_needed.
inline constexpr uint32_t kApplyVersion = 2;

// Test-only: set to a version from 1 to kApplyVersion, the member publishes
// that version instead of kApplyVersion (as a member with an older binary
// would), so that a test can put the leader's gate in front of a request.
// Read once, at the first publish; any other value is ignored (logged).
inline constexpr char kTestPublishApplyVersionEnv[] = "CORRAL_TEST_PUBLISH_APPLY_VERSION";

// The version this member publishes in its member record: kApplyVersion
// unless kTestPublishApplyVersionEnv says otherwise.
uint32_t published_apply_version();

// Exit code of a member that met an entry it cannot apply: EX_DATAERR of
// sysexits.h ("the input data was incorrect in some way").
inline constexpr int kUnreadableEntryExitCode = 65;

// The entry version that applying `request` needs (1 for every kind that
// version-1 binaries know).
uint32_t apply_version_needed(schema::api::Request::Reader request);

// The lowest version every member applies: members that published none run
// a binary from before versions, i.e. version 1.
uint32_t cluster_apply_version(const std::map<uint64_t, MemberInfo>& members);

// The error that the leader answers a request with while some member could
// not apply it: names the first such member.
std::string apply_version_refusal(const std::map<uint64_t, MemberInfo>& members, uint32_t needed);

// Logs why (entry index, what could not be read, what to do) and exits with
// kUnreadableEntryExitCode at once.
[[noreturn]] void stop_on_unreadable_entry(uint64_t index, std::string_view why);

}  // namespace corral::server
