// etcd's timing flags in milliseconds, mapped to raft ticks as etcd does:
// a tick is one heartbeat interval, and the election timeout is a whole
// number of them. --tick-ms/--election-ticks/--heartbeat-ticks stay as the
// finer detail; giving both forms is refused, since which one wins would
// be a guess. The rules of server/startup_checks.h apply to the result.
#pragma once

#include <optional>
#include <string>

#include "coordinator/server/node.h"

namespace corral::main {

struct TimingFlags {
  std::optional<int> heartbeat_interval_ms;  // --heartbeat-interval
  std::optional<int> election_timeout_ms;    // --election-timeout
  bool ticks_given = false;                  // any of the tick flags
};

// Sets tick_ms, heartbeat_ticks and election_ticks of `o` when a ms flag is
// given (the other one at etcd's default: 100 ms, 1000 ms). An error
// message naming the flags, or empty.
std::string apply_timing_flags(const TimingFlags& t, server::NodeOptions& o);

}  // namespace corral::main
