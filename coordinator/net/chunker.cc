#include "coordinator/net/chunker.h"

#include <limits>

#include "coordinator/base/check.h"

namespace corral::net {
namespace {

Error bad(std::string what) { return make_error(ErrorCode::kBadRequest, std::move(what)); }

void put_le(std::string& out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t get_le(std::string_view in, size_t offset, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  }
  return value;
}

std::string describe(uint64_t sender, const Chunk& c) {
  return "chunk " + std::to_string(c.index) + "/" + std::to_string(c.count) + " of stream " +
         std::to_string(c.stream_id) + " from " + std::to_string(sender);
}

}  // namespace

Result<std::vector<Chunk>> split_into_chunks(uint64_t stream_id, std::string_view bytes,
                                             size_t max_chunk_bytes) {
  if (max_chunk_bytes == 0) return bad("split_into_chunks: max_chunk_bytes is 0");
  const uint64_t needed = bytes.empty() ? 1 : (bytes.size() + max_chunk_bytes - 1) / max_chunk_bytes;
  if (needed > std::numeric_limits<uint32_t>::max()) {
    return bad("split_into_chunks: more than 2^32-1 chunks needed");
  }
  std::vector<Chunk> chunks;
  chunks.reserve(needed);
  for (uint64_t i = 0; i < needed; ++i) {
    Chunk c;
    c.stream_id = stream_id;
    c.index = static_cast<uint32_t>(i);
    c.count = static_cast<uint32_t>(needed);
    c.total_bytes = bytes.size();
    c.data = std::string(bytes.substr(i * max_chunk_bytes, max_chunk_bytes));
    chunks.push_back(std::move(c));
  }
  return chunks;
}

std::string encode_chunk(const Chunk& chunk) {
  std::string out;
  out.reserve(kChunkHeaderBytes + chunk.data.size());
  put_le(out, chunk.stream_id, 8);
  put_le(out, chunk.index, 4);
  put_le(out, chunk.count, 4);
  put_le(out, chunk.total_bytes, 8);
  out += chunk.data;
  return out;
}

Result<Chunk> decode_chunk(std::string_view bytes) {
  if (bytes.size() < kChunkHeaderBytes) {
    return bad("chunk of " + std::to_string(bytes.size()) + " bytes is shorter than its " +
               std::to_string(kChunkHeaderBytes) + "-byte header");
  }
  Chunk c;
  c.stream_id = get_le(bytes, 0, 8);
  c.index = static_cast<uint32_t>(get_le(bytes, 8, 4));
  c.count = static_cast<uint32_t>(get_le(bytes, 12, 4));
  c.total_bytes = get_le(bytes, 16, 8);
  c.data = std::string(bytes.substr(kChunkHeaderBytes));
  return c;
}

ChunkAssembler::ChunkAssembler(ChunkAssemblerLimits limits) : limits_(limits) {
  CORRAL_CHECK(limits_.max_chunk_bytes > 0);
}

void ChunkAssembler::erase(std::map<Key, Stream>::iterator it) {
  CORRAL_CHECK(reserved_bytes_ >= it->second.total_bytes);
  reserved_bytes_ -= it->second.total_bytes;
  streams_.erase(it);
}

void ChunkAssembler::drop_sender(uint64_t sender) {
  auto it = streams_.lower_bound(Key{sender, 0});
  while (it != streams_.end() && it->first.first == sender) erase(it++);
}

Status ChunkAssembler::check_alone(uint64_t sender, const Chunk& c) const {
  if (c.count == 0) return bad(describe(sender, c) + ": count is 0");
  if (c.index >= c.count) return bad(describe(sender, c) + ": index past count");
  if (c.data.size() > limits_.max_chunk_bytes) {
    return make_error(ErrorCode::kTooLarge, describe(sender, c) + ": " +
                                                std::to_string(c.data.size()) +
                                                " bytes, more than max_chunk_bytes " +
                                                std::to_string(limits_.max_chunk_bytes));
  }
  if (c.total_bytes > limits_.max_buffered_bytes) {
    return make_error(ErrorCode::kTooLarge, describe(sender, c) + ": total " +
                                                std::to_string(c.total_bytes) +
                                                " bytes, more than max_buffered_bytes");
  }
  // Every chunk but an empty stream's only one carries at least a byte, and
  // none carries more than max_chunk_bytes.
  const bool sizes_possible =
      (c.total_bytes == 0 ? c.count == 1 : c.count <= c.total_bytes) &&
      c.total_bytes <= static_cast<uint64_t>(c.count) * limits_.max_chunk_bytes;
  if (!sizes_possible) {
    return bad(describe(sender, c) + ": count and total_bytes " + std::to_string(c.total_bytes) +
               " are inconsistent");
  }
  return {};
}

Result<std::optional<std::string>> ChunkAssembler::add(uint64_t sender, const Chunk& c) {
  if (Status checked = check_alone(sender, c); !checked.ok()) return checked.error();
  auto it = streams_.find(Key{sender, c.stream_id});
  return it == streams_.end() ? start_stream(sender, c) : continue_stream(it, sender, c);
}

Result<std::optional<std::string>> ChunkAssembler::start_stream(uint64_t sender, const Chunk& c) {
  if (c.index != 0) {
    return bad(describe(sender, c) + ": missing chunks 0.." + std::to_string(c.index - 1));
  }
  if (c.count == 1) {
    if (c.data.size() != c.total_bytes) {
      return bad(describe(sender, c) + ": size differs from total_bytes");
    }
    drop_sender(sender);
    return std::optional<std::string>(c.data);
  }
  // A new stream supersedes the sender's older ones; check the bounds as
  // if they were gone, and change nothing if the new stream does not fit.
  uint64_t freed = 0;
  size_t freed_streams = 0;
  for (auto s = streams_.lower_bound(Key{sender, 0}); s != streams_.end() && s->first.first == sender; ++s) {
    freed += s->second.total_bytes;
    ++freed_streams;
  }
  if (reserved_bytes_ - freed + c.total_bytes > limits_.max_buffered_bytes) {
    return make_error(ErrorCode::kTooLarge,
                      describe(sender, c) + ": reassembly memory bound of " +
                          std::to_string(limits_.max_buffered_bytes) + " bytes reached");
  }
  if (streams_.size() - freed_streams >= limits_.max_streams) {
    return make_error(ErrorCode::kTooLarge, describe(sender, c) + ": already " +
                                                std::to_string(limits_.max_streams) + " incomplete streams");
  }
  if (c.data.size() > c.total_bytes) {
    return bad(describe(sender, c) + ": more bytes than total_bytes");
  }
  drop_sender(sender);
  Stream stream;
  stream.count = c.count;
  stream.total_bytes = c.total_bytes;
  stream.next_index = 1;
  stream.data.reserve(c.total_bytes);
  stream.data = c.data;
  reserved_bytes_ += c.total_bytes;
  streams_.emplace(Key{sender, c.stream_id}, std::move(stream));
  return std::optional<std::string>();
}

Result<std::optional<std::string>> ChunkAssembler::continue_stream(std::map<Key, Stream>::iterator it,
                                                                   uint64_t sender, const Chunk& c) {
  Stream& s = it->second;
  if (c.count != s.count || c.total_bytes != s.total_bytes) {
    return bad(describe(sender, c) + ": count or total_bytes differ from the stream's first chunk");
  }
  if (c.index < s.next_index) return bad(describe(sender, c) + ": duplicate chunk");
  if (c.index > s.next_index) {
    const std::string missing = std::to_string(s.next_index);
    erase(it);
    return bad(describe(sender, c) + ": chunk " + missing + " missing; stream aborted");
  }
  if (s.data.size() + c.data.size() > s.total_bytes) {
    erase(it);
    return bad(describe(sender, c) + ": more bytes than total_bytes; stream aborted");
  }
  s.data += c.data;
  ++s.next_index;
  if (s.next_index < s.count) return std::optional<std::string>();
  if (s.data.size() != s.total_bytes) {
    erase(it);
    return bad(describe(sender, c) + ": fewer bytes than total_bytes; stream aborted");
  }
  std::optional<std::string> whole(std::move(s.data));
  erase(it);
  return whole;
}

}  // namespace corral::net
