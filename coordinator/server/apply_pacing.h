// How much apply work one node-loop turn takes on, so that a burst of
// committed writes (a few lease grant batches of thousands of grants) does
// not hold the loop past heartbeats and keep-alives: each member applies a
// grant at a cost of microseconds, and a turn of seconds costs a leader its
// leadership and the clients their leases.
//
// Three bounds, each keeping apply in log order and every entry whole:
// - the leader closes an entry once it holds kMaxGrantsPerEntry grants (a
//   single request of more, up to api::kMaxGrantBatchGrants, is one entry);
// - raft hands out at most kMaxCommittedBytesPerReady of committed entries
//   per Ready (at least one entry);
// - a turn handles another Ready only while it has applied for less than
//   kApplyTimePerTurn; what is left is handled the next turn, which starts
//   at once (the loop does not sleep while raft has a Ready).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "schema/api.capnp.h"

namespace corral::server {

inline constexpr size_t kMaxGrantsPerEntry = 1000;
inline constexpr uint64_t kMaxCommittedBytesPerReady = 256 << 10;
inline constexpr std::chrono::milliseconds kApplyTimePerTurn{20};

// Lease grants a request makes (0 for any other kind).
size_t grants_in(schema::api::Request::Reader request);

}  // namespace corral::server
