// What a follower does with the bytes of a snapshot it receives
// (server/node_loop.cc receive_peers, then the install): chunk frames
// reassembled by a net::ChunkAssembler, the stream split into its raft
// message and image (server::decode_snapshot_stream), the image staged over
// the key space (StateMachine::stage_restore), written, and the state
// machine reloaded from it (which decodes every kv, lease and member record).
//
// Input, selector bit 0 of the first byte:
//   0: the reassembled stream itself (image | message | u32 length);
//   1: a sequence of chunk frames, each u16 LE length | frame bytes, fed to
//      one assembler; each completed stream is decoded as in 0.
// Invariants: the assembler's bounds hold; a restored image, imaged again,
// restores to the same image (image() is a fixed point).
#include <memory>

#include "coordinator/net/chunker.h"
#include "coordinator/server/snapshot_sender.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

namespace {

constexpr uint64_t kMaxBuffered = 1 << 16;
constexpr size_t kMaxStreams = 4;

struct Follower {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<server::StateMachine> sm;
  std::string initial_image;

  Follower() {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/fuzz-snapshot";
    engine = std::move(storage::Engine::open(eo)).value();
    server::StateMachineOptions so;
    so.self_id = 1;
    sm = std::move(server::StateMachine::open(*engine, so)).value();
    initial_image = sm->image().value();
  }

  // Restore `image`; true when the state machine took it.
  bool restore(std::string_view image) {
    storage::WriteBatch batch;
    if (!sm->stage_restore(image, batch).ok()) return false;
    FUZZ_CHECK(engine->write(std::move(batch), false).ok());
    sm->batch_written();
    return sm->reload().ok();
  }

  // Back to the state it started in, so that inputs do not depend on each other.
  void clear() { FUZZ_CHECK(restore(initial_image)); }
};

// Never destroyed: RocksDB's own statics may be gone at exit.
Follower& follower() {
  static Follower* f = new Follower;
  return *f;
}

void install(std::string stream) {
  auto m = server::decode_snapshot_stream(std::move(stream));
  if (!m.ok()) return;
  FUZZ_CHECK(m->type == raft::MessageType::kSnapshot && m->snapshot);
  Follower& f = follower();
  if (f.restore(m->snapshot->data)) {
    auto image = f.sm->image();
    FUZZ_CHECK(image.ok());
    FUZZ_CHECK(f.restore(*image));
    auto again = f.sm->image();
    FUZZ_CHECK(again.ok() && *again == *image);
  }
  f.clear();
}

void reassemble(std::string_view in) {
  net::ChunkAssembler assembler({.max_chunk_bytes = 1024, .max_buffered_bytes = kMaxBuffered,
                                 .max_streams = kMaxStreams});
  for (int frames = 0; in.size() >= 3 && frames < 256; ++frames) {
    const uint8_t sender = static_cast<uint8_t>(in[0]) & 3;
    const size_t n = std::min<size_t>(static_cast<uint8_t>(in[1]) | (static_cast<uint8_t>(in[2]) << 8), in.size() - 3);
    const std::string_view frame = in.substr(3, n);
    in.remove_prefix(3 + n);
    auto chunk = net::decode_chunk(frame);
    if (!chunk.ok()) continue;
    auto done = assembler.add(sender + 1, *chunk);
    FUZZ_CHECK(assembler.reserved_bytes() <= kMaxBuffered);
    FUZZ_CHECK(assembler.incomplete_streams() <= kMaxStreams);
    if (done.ok() && done->has_value()) {
      FUZZ_CHECK((*done)->size() == chunk->total_bytes);
      install(std::move(**done));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    install(std::string(bytes));
  } else {
    reassemble(bytes);
  }
  return 0;
}
