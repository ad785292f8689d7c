// A frame from a peer, as NodeLoop::receive_peers takes it apart: the
// routing id (net::parse_peer_routing_id; the TCP wire's hello,
// net::parse_tcp_peer_hello, from the same bytes), a cluster-mismatch notice, a
// snapshot chunk (net::decode_chunk into a ChunkAssembler), member
// attributes (decode_member) or a raft message (storage::decode_message).
//
// Input: u8 routing-id length (mod 18) | routing id | frame. Each decoder
// that accepts the bytes must give back the same bytes' meaning after an
// encode (round trip).
#include "coordinator/net/chunker.h"
#include "coordinator/net/tcp_peer_transport.h"
#include "coordinator/net/zmq_peer_transport.h"
#include "coordinator/server/cluster_id_gate.h"
#include "coordinator/server/members.h"
#include "coordinator/server/snapshot_sender.h"
#include "coordinator/storage/raft_records.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

namespace {

constexpr std::string_view kAttributesFrameTag{"\xfe\xff\xff\xff", 4};  // server/node_loop.h

void check_routing_id(std::string_view id) {
  uint64_t cluster = 0;
  const net::PeerId from = net::parse_peer_routing_id(id, &cluster);
  if (from == 0) return;
  FUZZ_CHECK(net::parse_peer_routing_id(net::peer_routing_id(from, cluster), nullptr) == from);
  if (cluster != 0) FUZZ_CHECK(net::peer_routing_id(from, cluster) == id);
}

// The TCP wire's hello: the same bytes read as one round-trip exactly.
void check_hello(std::string_view frame) {
  uint64_t cluster = 0;
  const net::PeerId from = net::parse_tcp_peer_hello(frame, &cluster);
  if (from == 0) return;
  FUZZ_CHECK(net::tcp_peer_hello(from, cluster) == frame);
}

void check_chunk(std::string_view body) {
  auto chunk = net::decode_chunk(body);
  if (!chunk.ok()) return;
  FUZZ_CHECK(net::encode_chunk(*chunk) == body);
  // A small assembler, so that the bounds are reached.
  net::ChunkAssembler assembler({.max_chunk_bytes = 64, .max_buffered_bytes = 4096, .max_streams = 4});
  auto done = assembler.add(7, *chunk);
  FUZZ_CHECK(assembler.reserved_bytes() <= 4096);
  FUZZ_CHECK(assembler.incomplete_streams() <= 4);
  if (done.ok() && done->has_value()) {
    FUZZ_CHECK((*done)->size() == chunk->total_bytes);
    (void)server::decode_snapshot_stream(std::move(**done));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  if (in.empty()) return 0;
  const size_t id_len = std::min<size_t>(static_cast<unsigned char>(in[0]) % 18, in.size() - 1);
  check_routing_id(in.substr(1, id_len));
  std::string_view body = in.substr(1 + id_len);
  check_hello(body);

  if (auto notice = server::parse_cluster_mismatch_notice(body)) {
    FUZZ_CHECK(server::parse_cluster_mismatch_notice(server::cluster_mismatch_notice(*notice)).has_value());
  }
  if (body.starts_with(server::kSnapshotChunkFrameTag)) {
    check_chunk(body.substr(server::kSnapshotChunkFrameTag.size()));
  } else if (body.starts_with(kAttributesFrameTag)) {
    fuzz::check_round_trip_equal(body.substr(kAttributesFrameTag.size()), server::decode_member,
                                 server::encode_member);
  }
  fuzz::check_round_trip_equal(body, storage::decode_message, storage::encode_message);
  return 0;
}
