// The loads and the checks that the network fault tests share (partitions,
// delays): a write load whose every acknowledged write must be there exactly
// once, a register whose reads must never go back in time, a put/get/cas
// load whose whole history must be linearizable, and a leader watch. finish()
// stops them once the network has healed and checks all of it, plus every
// member reaching one applied index.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/fault/history_load.h"
#include "tests/fault/workload.h"
#include "tests/integration/harness/cluster.h"

namespace corral::fault {

inline constexpr std::chrono::milliseconds kProgressTimeout{20'000};
inline constexpr std::chrono::milliseconds kHealTimeout{30'000};
inline constexpr size_t kAcksBeforeFault = 100;
inline constexpr size_t kAcksDuringFault = 30;

// The leader that every member of `among` names, once they agree on one
// that is itself in `among` and is not `not_id`.
std::optional<size_t> leader_among(integration::Cluster& cluster, const std::vector<size_t>& among, uint64_t not_id,
                                   std::chrono::milliseconds timeout);
// Every member's index.
std::vector<size_t> all_members(const integration::Cluster& cluster);

class CheckedRun {
 public:
  // Starts the loads.
  explicit CheckedRun(integration::Cluster& cluster);
  // Waits until `by` more writes are acknowledged (kProgressTimeout).
  bool progressed(size_t by);
  // Stops the loads once a leader is agreed on and writes go on, then checks
  // everything (Catch2 CHECKs, labelled with `name`).
  void finish(const std::string& name);

 private:
  integration::Cluster& cluster_;
  LeaderWatch leaders_;
  WriteLoad load_;
  RegisterLoad reg_;
  HistoryLoad history_;
};

}  // namespace corral::fault
