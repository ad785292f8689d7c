#include "coordinator/main/timing_flags.h"

#include "coordinator/server/startup_checks.h"

namespace corral::main {

namespace {
constexpr int kDefaultHeartbeatIntervalMs = 100;
constexpr int kDefaultElectionTimeoutMs = 1000;
}  // namespace

std::string apply_timing_flags(const TimingFlags& t, server::NodeOptions& o) {
  if (!t.heartbeat_interval_ms && !t.election_timeout_ms) return {};
  if (t.ticks_given) {
    return "give --heartbeat-interval/--election-timeout (ms) or --tick-ms/--election-ticks/--heartbeat-ticks, "
           "not both";
  }
  const int hb = t.heartbeat_interval_ms.value_or(kDefaultHeartbeatIntervalMs);
  const int et = t.election_timeout_ms.value_or(kDefaultElectionTimeoutMs);
  const std::string given = "--heartbeat-interval " + std::to_string(hb) + " ms, --election-timeout " +
                            std::to_string(et) + " ms";
  if (hb <= 0 || et <= 0) return given + ": both must be positive";
  if (et % hb != 0) return given + ": --election-timeout must be a whole number of heartbeat intervals";
  if (et / hb < server::kMinElectionToHeartbeatTicks) {
    return given + ": --election-timeout must be at least " + std::to_string(server::kMinElectionToHeartbeatTicks) +
           " x --heartbeat-interval";
  }
  o.tick_ms = hb;
  o.heartbeat_ticks = 1;
  o.election_ticks = et / hb;
  return {};
}

}  // namespace corral::main
