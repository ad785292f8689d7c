// Large messages (raft snapshots) travel in chunks: split a byte string into
// chunks of at most max_chunk_bytes, and reassemble them per (sender, stream
// id) with a bound on the memory held by incomplete streams.
//
// Chunk wire format (encode_chunk/decode_chunk), all integers little-endian:
//   u64 stream_id | u32 index | u32 count | u64 total_bytes | data...
// The server may instead carry the same fields in its own (Cap'n Proto)
// message and build a Chunk from them; the assembler only sees Chunk.
//
// Reassembly rules. ZeroMQ keeps order on one connection, so chunks of a
// stream must arrive in order 0, 1, ..., count-1:
//  - a duplicate (index already received) is rejected and changes nothing;
//  - a gap (a chunk missing) is rejected and aborts the stream, since it can
//    never complete: the sender must start again (raft reports the snapshot
//    as failed and resends);
//  - a chunk that disagrees with its stream (count, total) or overflows the
//    declared total is rejected; overflow aborts the stream;
//  - a chunk larger than max_chunk_bytes, or a stream whose total_bytes would
//    take the reserved memory past max_buffered_bytes, is kTooLarge;
//  - a sender sends one stream at a time: the first chunk of a new stream
//    from a sender discards that sender's incomplete older streams.
// Memory is reserved by the declared total_bytes at a stream's first chunk,
// so the bound holds no matter what the later chunks say.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coordinator/base/error.h"

namespace corral::net {

inline constexpr size_t kChunkHeaderBytes = 24;
inline constexpr size_t kDefaultMaxChunkBytes = 1 << 20;
inline constexpr uint64_t kDefaultMaxReassemblyBytes = 1ULL << 30;
inline constexpr size_t kDefaultMaxReassemblyStreams = 64;

struct Chunk {
  uint64_t stream_id = 0;
  uint32_t index = 0;
  uint32_t count = 0;        // chunks in the stream, >= 1
  uint64_t total_bytes = 0;  // bytes in the whole stream
  std::string data;
  bool operator==(const Chunk&) const = default;
};

// At least one chunk (an empty input gives one empty chunk). kBadRequest if
// max_chunk_bytes is 0 or the input needs more than 2^32-1 chunks.
Result<std::vector<Chunk>> split_into_chunks(uint64_t stream_id, std::string_view bytes,
                                             size_t max_chunk_bytes);

std::string encode_chunk(const Chunk& chunk);
// kBadRequest if shorter than the header.
Result<Chunk> decode_chunk(std::string_view bytes);

struct ChunkAssemblerLimits {
  size_t max_chunk_bytes = kDefaultMaxChunkBytes;
  uint64_t max_buffered_bytes = kDefaultMaxReassemblyBytes;
  size_t max_streams = kDefaultMaxReassemblyStreams;
};

class ChunkAssembler {
 public:
  explicit ChunkAssembler(ChunkAssemblerLimits limits = {});

  // The whole message once its last chunk arrives, nullopt while incomplete,
  // or an error by the rules above.
  Result<std::optional<std::string>> add(uint64_t sender, const Chunk& chunk);

  // Forget a sender's incomplete streams (peer removed, snapshot cancelled).
  void drop_sender(uint64_t sender);

  uint64_t reserved_bytes() const { return reserved_bytes_; }
  size_t incomplete_streams() const { return streams_.size(); }

 private:
  struct Stream {
    uint32_t count = 0;
    uint64_t total_bytes = 0;
    uint32_t next_index = 0;
    std::string data;
  };
  using Key = std::pair<uint64_t, uint64_t>;  // (sender, stream id)

  void erase(std::map<Key, Stream>::iterator it);
  // The checks on the chunk alone: an error, or ok.
  Status check_alone(uint64_t sender, const Chunk& c) const;
  // A chunk with no stream of its sender's yet (index 0) / one of a stream begun.
  Result<std::optional<std::string>> start_stream(uint64_t sender, const Chunk& c);
  Result<std::optional<std::string>> continue_stream(std::map<Key, Stream>::iterator it, uint64_t sender,
                                                     const Chunk& c);

  ChunkAssemblerLimits limits_;
  std::map<Key, Stream> streams_;
  uint64_t reserved_bytes_ = 0;
};

}  // namespace corral::net
