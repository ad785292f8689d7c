#include "coordinator/raft/status.h"

namespace corral::raft {

const char* status_name(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kProposalDropped: return "proposal dropped";
    case Status::kNotLeader: return "not leader";
    case Status::kConfChangePending: return "conf change pending";
    case Status::kInvalidConfChange: return "invalid conf change";
    case Status::kStepLocalMessage: return "step local message";
    case Status::kStepPeerNotFound: return "step peer not found";
    case Status::kCompacted: return "compacted";
    case Status::kUnavailable: return "unavailable";
    case Status::kSnapshotTemporarilyUnavailable: return "snapshot temporarily unavailable";
    case Status::kTooLarge: return "too large";
  }
  return "unknown status";
}

}  // namespace corral::raft
