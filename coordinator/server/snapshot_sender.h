// Snapshots on their way to lagging followers, sent a few chunks per loop
// turn so that the node loop never spends long on one (a 250 MB snapshot
// sent in one turn held the loop for seconds and cost the leader its
// leadership).
//
// Stream format. A snapshot travels as one chunk stream (net/chunker.h,
// chunks in peer frames tagged by the node) whose reassembled bytes are
//   image | raft Message (storage::encode_message; its snapshot data empty) | u32 LE length of that message
// The image comes first so that the receiver cuts the message off the end
// and hands the image to raft in place, without a copy. The sender never
// builds the whole stream either: each chunk is copied from the shared
// image (or the short trailer) when it is sent.
//
// Pacing. Each stream keeps at most max_bytes_in_transport of its chunks
// inside ZeroMQ (counted until written out), so the follower's heartbeats
// and appends are never queued behind a snapshot's worth of bytes, and a
// turn sends at most max_bytes_per_turn of chunks in all.
//
// No duplicates. Raft asks again for a snapshot it has sent when the
// follower has not acknowledged it within its wait (a large snapshot takes
// longer than that to arrive and install). A request for the snapshot that
// is already streaming to that follower, or that was delivered to it
// within delivered_grace (plus a second per kSnapshotInstallBytesPerSecond
// of image), is answered "already on its way" and sends nothing; raft's
// later retries find the follower caught up. Once the follower acknowledges
// the snapshot's index the record lives on for settle_after_ack only: its
// answers to messages sent before the install may still be on their way.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/raft/types.h"
#include "coordinator/server/snapshot_worker.h"

namespace corral::server {

// Tags a peer frame that carries a chunk of a snapshot stream: a flat Cap'n
// Proto message never starts with these bytes (node_loop.h, peer frames).
inline constexpr std::string_view kSnapshotChunkFrameTag{"\xff\xff\xff\xff", 4};
inline constexpr size_t kDefaultSnapshotChunkBytes = 512 * 1024;
inline constexpr size_t kDefaultSnapshotBytesInTransport = 4u << 20;
inline constexpr size_t kDefaultSnapshotBytesPerTurn = 8u << 20;
inline constexpr int kDefaultSnapshotDeliveredGraceMs = 10'000;
inline constexpr int kDefaultSnapshotSettleAfterAckMs = 3'000;
// The rate the grace allows for the follower to reassemble and install.
inline constexpr uint64_t kSnapshotInstallBytesPerSecond = 20u << 20;

// The trailer that follows the image in a stream (see the file comment).
std::string encode_snapshot_trailer(const raft::Message& m);
// Splits a reassembled stream back into its raft message, the image moved
// into its snapshot data. kBadRequest for a malformed stream.
Result<raft::Message> decode_snapshot_stream(std::string stream);

struct SnapshotSenderOptions {
  size_t chunk_bytes = kDefaultSnapshotChunkBytes;
  size_t max_bytes_in_transport = kDefaultSnapshotBytesInTransport;
  size_t max_bytes_per_turn = kDefaultSnapshotBytesPerTurn;
  std::chrono::milliseconds delivered_grace{kDefaultSnapshotDeliveredGraceMs};
  std::chrono::milliseconds settle_after_ack{kDefaultSnapshotSettleAfterAckMs};
};

class SnapshotSender {
 public:
  using Clock = std::chrono::steady_clock;
  // What became of a stream: ok once its last chunk is handed to the
  // transport, not ok if the follower could not be reached.
  struct Outcome {
    uint64_t to = 0;
    raft::Index index = 0;
    bool ok = false;
    uint64_t bytes = 0;
  };

  explicit SnapshotSender(SnapshotSenderOptions options = {}) : options_(options) {}

  // A snapshot message of raft (data empty) and the image to send with it.
  // False when that snapshot is already on its way to m.to (nothing
  // changes); a stream of an older snapshot to m.to is replaced.
  bool start(const raft::Message& m, std::shared_ptr<const StateImage> image, Clock::time_point now);
  // Sends what the bounds allow; stream ids come from next_stream_id.
  std::vector<Outcome> pump(net::PeerTransport& transport, uint64_t& next_stream_id, Clock::time_point now);
  // The follower acknowledged its log up to `index`.
  void acknowledged(uint64_t to, raft::Index index, Clock::time_point now);
  // The follower is gone (removed from the cluster).
  void forget(uint64_t to);
  // Some stream still has chunks to send (the loop should come back soon).
  bool sending() const { return !streams_.empty(); }
  size_t bytes_in_transport() const;
  // The lowest snapshot index streaming or delivered and not yet
  // acknowledged (the leader keeps the log after it); 0 if none.
  raft::Index oldest_index() const;

 private:
  struct Stream {
    raft::Index index = 0;
    std::shared_ptr<const StateImage> image;
    std::string trailer;
    uint64_t stream_id = 0;  // 0 until the first chunk goes
    uint64_t total_bytes = 0;
    uint32_t chunk_count = 0;
    uint32_t next_chunk = 0;
    net::PeerQueuedBytes in_transport = std::make_shared<std::atomic<int64_t>>(0);
  };
  struct Delivered {
    raft::Index index = 0;
    Clock::time_point until;
  };
  std::string chunk_bytes(const Stream& s, uint32_t index) const;

  SnapshotSenderOptions options_;
  std::map<uint64_t, Stream> streams_;       // by follower
  std::map<uint64_t, Delivered> delivered_;  // by follower
};

}  // namespace corral::server
