#include "coordinator/server/storage_failure.h"

#include <cstdlib>
#include <string>

#include "coordinator/server/log.h"

namespace corral::server {

void stop_on_storage_failure(std::string_view what, const Error& error) {
  const std::string what_text(what);
  log_error("storage failure, stopping (exit %d): %s: %s; the data dir's state after a failed write or sync is "
            "unknown, so this member does not retry; restart it once the disk is sound",
            kStorageFailureExitCode, what_text.c_str(), error.message.c_str());
  flush_log();
  // _Exit: no destructors, so no other thread touches the database again.
  std::_Exit(kStorageFailureExitCode);
}

}  // namespace corral::server
