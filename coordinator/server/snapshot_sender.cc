#include "coordinator/server/snapshot_sender.h"

#include <algorithm>

#include "coordinator/base/check.h"
#include "coordinator/net/chunker.h"
#include "coordinator/storage/raft_records.h"

namespace corral::server {

namespace {

constexpr size_t kTrailerLengthBytes = 4;

}  // namespace

std::string encode_snapshot_trailer(const raft::Message& m) {
  CORRAL_CHECK(m.snapshot && m.snapshot->data.empty());
  std::string out = storage::encode_message(m);
  const auto n = static_cast<uint32_t>(out.size());
  for (size_t i = 0; i < kTrailerLengthBytes; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

Result<raft::Message> decode_snapshot_stream(std::string stream) {
  if (stream.size() < kTrailerLengthBytes) return make_error(ErrorCode::kBadRequest, "snapshot stream: too short");
  uint32_t n = 0;
  const size_t at = stream.size() - kTrailerLengthBytes;
  for (size_t i = 0; i < kTrailerLengthBytes; ++i) {
    n |= static_cast<uint32_t>(static_cast<unsigned char>(stream[at + i])) << (8 * i);
  }
  if (n > at) return make_error(ErrorCode::kBadRequest, "snapshot stream: bad trailer length");
  auto m = storage::decode_message(std::string_view(stream).substr(at - n, n));
  if (!m.ok()) return m.error();
  if (m->type != raft::MessageType::kSnapshot || !m->snapshot) {
    return make_error(ErrorCode::kBadRequest, "snapshot stream: not a snapshot message");
  }
  stream.resize(at - n);
  m->snapshot->data = std::move(stream);
  return m;
}

bool SnapshotSender::start(const raft::Message& m, std::shared_ptr<const StateImage> image, Clock::time_point now) {
  CORRAL_CHECK(m.type == raft::MessageType::kSnapshot && m.snapshot && image);
  const raft::Index index = m.snapshot->metadata.index;
  auto running = streams_.find(m.to);
  if (running != streams_.end() && running->second.index >= index) return false;
  auto done = delivered_.find(m.to);
  if (done != delivered_.end() && done->second.index >= index && now < done->second.until) return false;
  Stream s;
  s.index = index;
  s.image = std::move(image);
  s.trailer = encode_snapshot_trailer(m);
  s.total_bytes = s.image->bytes.size() + s.trailer.size();
  s.chunk_count = static_cast<uint32_t>(std::max<uint64_t>(1, (s.total_bytes + options_.chunk_bytes - 1) / options_.chunk_bytes));
  streams_[m.to] = std::move(s);
  delivered_.erase(m.to);
  return true;
}

std::string SnapshotSender::chunk_bytes(const Stream& s, uint32_t index) const {
  const uint64_t begin = static_cast<uint64_t>(index) * options_.chunk_bytes;
  const uint64_t end = std::min<uint64_t>(begin + options_.chunk_bytes, s.total_bytes);
  const std::string& image = s.image->bytes;
  std::string out;
  out.reserve(end - begin);
  if (begin < image.size()) out.append(image, begin, std::min<uint64_t>(end, image.size()) - begin);
  if (end > image.size()) {
    const uint64_t from = std::max<uint64_t>(begin, image.size()) - image.size();
    out.append(s.trailer, from, end - image.size() - from);
  }
  return out;
}

std::vector<SnapshotSender::Outcome> SnapshotSender::pump(net::PeerTransport& transport, uint64_t& next_stream_id,
                                                          Clock::time_point now) {
  std::erase_if(delivered_, [&](const auto& entry) { return entry.second.until <= now; });
  std::vector<Outcome> outcomes;
  size_t budget = options_.max_bytes_per_turn;
  for (auto it = streams_.begin(); it != streams_.end() && budget > 0;) {
    const uint64_t to = it->first;
    Stream& s = it->second;
    if (s.stream_id == 0) s.stream_id = next_stream_id++;
    bool failed = false;
    while (s.next_chunk < s.chunk_count && budget > 0 &&
           s.in_transport->load(std::memory_order_relaxed) < static_cast<int64_t>(options_.max_bytes_in_transport)) {
      net::Chunk c;
      c.stream_id = s.stream_id;
      c.index = s.next_chunk;
      c.count = s.chunk_count;
      c.total_bytes = s.total_bytes;
      c.data = chunk_bytes(s, s.next_chunk);
      std::string frame(kSnapshotChunkFrameTag);
      frame.append(net::encode_chunk(c));
      const size_t size = frame.size();
      auto r = transport.send_counted(to, frame, s.in_transport);
      if (r == net::PeerSendResult::kBackpressure) break;  // the queue is full: later
      if (r != net::PeerSendResult::kSent) {
        failed = true;
        break;
      }
      budget -= std::min(budget, size);
      ++s.next_chunk;
    }
    if (failed || s.next_chunk == s.chunk_count) {
      outcomes.push_back(Outcome{to, s.index, !failed, s.total_bytes});
      if (!failed) {
        const auto grace = options_.delivered_grace +
                           std::chrono::seconds(s.total_bytes / kSnapshotInstallBytesPerSecond);
        delivered_[to] = Delivered{s.index, now + grace};
      }
      it = streams_.erase(it);
      continue;
    }
    ++it;
  }
  return outcomes;
}

void SnapshotSender::acknowledged(uint64_t to, raft::Index index, Clock::time_point now) {
  auto it = delivered_.find(to);
  if (it == delivered_.end() || index < it->second.index) return;
  it->second.until = std::min(it->second.until, now + options_.settle_after_ack);
}

void SnapshotSender::forget(uint64_t to) {
  streams_.erase(to);
  delivered_.erase(to);
}

raft::Index SnapshotSender::oldest_index() const {
  raft::Index oldest = 0;
  auto take = [&](raft::Index i) { oldest = oldest == 0 ? i : std::min(oldest, i); };
  for (const auto& [to, s] : streams_) take(s.index);
  for (const auto& [to, d] : delivered_) take(d.index);
  return oldest;
}

size_t SnapshotSender::bytes_in_transport() const {
  int64_t n = 0;
  for (const auto& [to, s] : streams_) n += s.in_transport->load(std::memory_order_relaxed);
  return static_cast<size_t>(std::max<int64_t>(0, n));
}

}  // namespace corral::server
