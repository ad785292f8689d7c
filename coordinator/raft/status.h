// Typed errors of the consensus core. The server maps them to wire errors
// once (api/), and the tests assert on them.
#pragma once

#include <cstdint>
#include <utility>
#include <variant>

namespace corral::raft {

enum class Status : uint8_t {
  kOk = 0,
  kProposalDropped,       // no leader known, this node is not the leader, or a transfer is in progress
  kNotLeader,             // operation only a leader can perform (and no forwarding applies)
  kConfChangePending,     // a membership change is already in flight
  kInvalidConfChange,     // e.g. remove the last voter, add a learner that is a voter
  kStepLocalMessage,      // a local-only message type given to step()
  kStepPeerNotFound,      // response from a node that is not a member
  kCompacted,             // storage: index is before the first available index
  kUnavailable,           // storage: index is after the last index
  kSnapshotTemporarilyUnavailable,  // storage: snapshot is being built, retry
  kTooLarge,              // a proposal past the uncommitted-size bound
};
const char* status_name(Status status);

// A value or the typed reason there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : v_(status) {}               // NOLINT: must not be kOk
  bool ok() const { return v_.index() == 0; }
  Status status() const { return ok() ? Status::kOk : std::get<1>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace corral::raft
