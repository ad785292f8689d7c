// Bounds of the client protocol. Past a bound the client gets a typed error
// (tooLarge, unavailable), never a dropped connection.
#pragma once

#include <cstddef>
#include <cstdint>

namespace corral::api {

// One request message, as received. etcd's 1.5 MiB value limit plus room for
// the key and the envelope.
inline constexpr size_t kDefaultMaxRequestBytes = 2 * 1024 * 1024;
// Operations in one txn, summed over every nested level (kv checks the rest).
inline constexpr size_t kMaxTxnOpsPerRequest = 1024;
// Nested txn levels, the outer one included.
inline constexpr size_t kMaxTxnDepth = 4;
// Write requests proposed and not yet applied, per member. Past it: unavailable.
inline constexpr size_t kDefaultMaxPendingProposals = 100'000;
// Lease ids in one LeaseKeepAliveBatchRequest (10k ids are ~80 KB on the
// wire, ~240 KB answered). Past it: tooLarge, nothing renewed.
inline constexpr size_t kMaxKeepAliveBatchIds = 10'000;
// Grants in one LeaseGrantBatchRequest, and keys summed over its grants
// (each grant still at most kv's 128): one raft entry applies them all, so
// this bounds the time one apply holds the loop. Past either: tooLarge,
// nothing granted.
inline constexpr size_t kMaxGrantBatchGrants = 10'000;
inline constexpr size_t kMaxGrantBatchKeys = 20'000;
// Watches one client connection may hold.
inline constexpr size_t kDefaultMaxWatchersPerConnection = 10'000;
// Bytes of one SnapshotResponse chunk.
inline constexpr size_t kSnapshotChunkBytes = 1 << 20;
// Members listed in one request (peer and client URLs).
inline constexpr size_t kMaxUrlsPerMember = 16;
inline constexpr size_t kMaxMemberNameBytes = 256;

}  // namespace corral::api
