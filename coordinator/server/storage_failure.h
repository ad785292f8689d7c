// What a member does when a write or sync of its data dir fails: it stops.
// After a failed fsync the kernel may already have dropped the dirty pages
// (fsyncgate): retrying can report success for data that never reached the
// disk, so carrying on would acknowledge writes a crash then loses. The
// member exits with its own message and kStorageFailureExitCode; a restart
// recovers from what did reach the disk, and its peers hold the rest.
#pragma once

#include <string_view>

#include "coordinator/base/error.h"

namespace corral::server {

// EX_IOERR of sysexits.h: "an error occurred while doing I/O on some file".
inline constexpr int kStorageFailureExitCode = 74;

// Logs "storage failure, stopping: <what>: <error>" and exits at once.
[[noreturn]] void stop_on_storage_failure(std::string_view what, const Error& error);

}  // namespace corral::server
