// How many reply bytes a member lets pile up for clients that do not read
// them, and what it does past that: it stops doing work for them.
//
// A reply is "unsent" from when the member makes it until the client wire
// has written it to the kernel (ClientListener's QueuedBytes: on ZeroMQ its
// I/O thread writes, on TCP the loop itself), plus whatever the member holds
// because the wire's queue was full. A client that reads its replies has
// next to none. A connection past its bound still has its requests read
// (ZeroMQ cannot stop reading from one connection of a ROUTER); each gets a
// small typed error instead of its work, sent only if the wire takes it at
// once (never held), so the pile stops growing.
#pragma once

#include <cstdint>

namespace corral::net {

// Any one connection: about five replies of the largest value (1.5 MiB).
inline constexpr int64_t kDefaultMaxUnsentReplyBytesPerConnection = 8 << 20;
// Every connection together.
inline constexpr int64_t kDefaultMaxUnsentReplyBytesTotal = 256 << 20;
// Past the total, a connection with this much unsent gets no more work, so
// that those that read theirs are still served.
inline constexpr int64_t kDefaultMaxUnsentReplyBytesWhenCrowded = 1 << 20;

struct ReplyBudget {
  int64_t max_unsent_bytes_per_connection = kDefaultMaxUnsentReplyBytesPerConnection;
  int64_t max_unsent_bytes_total = kDefaultMaxUnsentReplyBytesTotal;
  int64_t max_unsent_bytes_when_crowded = kDefaultMaxUnsentReplyBytesWhenCrowded;
};

enum class ServeVerdict : uint8_t {
  kServe,
  kConnectionFull,  // this connection is past its own bound
  kMemberFull,      // all together are past theirs and this one holds its share
};

// Whether to do the work of a request from a connection that has
// `connection_unsent` bytes of replies unsent while all have `total_unsent`.
// Checked before the work, so a connection can end one reply past its bound.
ServeVerdict serve_verdict(const ReplyBudget& budget, int64_t connection_unsent,
                           int64_t total_unsent);

}  // namespace corral::net
