// The leader's side of lease checkpoints (lease/lessor.h): turns the
// lessor's batches into raft entries (lease/checkpoint_entry.h), within
// bounds: at most kMaxCheckpointsPerEntry a batch, periodic batches at most
// one per kMinCheckpointEntryGapMs (so at most 10,000 checkpoints a second).
// Resets for keep-alives are not rate-limited: each answers a keep-alive a
// client is waiting for, at most one per lease per checkpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/lease/lessor.h"
#include "coordinator/server/lease_keepalives.h"

namespace corral::server {

// Hands an entry's data to raft; false when raft refused it.
using ProposeFn = std::function<bool(std::string data)>;

struct ResetProposals {
  // Keep-alives waiting for the reset batch of each sequence.
  std::vector<std::pair<uint64_t, std::vector<WaitingKeepAlive>>> proposed;
  std::vector<WaitingKeepAlive> refused;  // raft refused their entry
};

class LeaseCheckpointer {
 public:
  explicit LeaseCheckpointer(uint64_t self_id) : self_id_(self_id) {}

  // Proposes the periodic checkpoints due now, if the rate allows; leases
  // whose entry raft refused are tried again at the next gap.
  void propose_due(lease::Lessor& lessor, lease::Millis now, const ProposeFn& propose);
  // Proposes resets for `renewed` (keep-alives whose lease needs one).
  ResetProposals propose_resets(lease::Lessor& lessor, std::vector<WaitingKeepAlive> renewed,
                                const ProposeFn& propose);

 private:
  uint64_t self_id_;
  lease::Millis next_periodic_ms_ = 0;
};

}  // namespace corral::server
