#include "coordinator/net/chunker.h"

#include <catch2/catch.hpp>
#include <string>

using corral::ErrorCode;
using corral::net::Chunk;
using corral::net::ChunkAssembler;
using corral::net::ChunkAssemblerLimits;
using corral::net::split_into_chunks;

namespace {

std::string pattern_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 251);
  return s;
}

}  // namespace

TEST_CASE("chunker: split respects max_chunk_bytes and reassembles", "[net][chunker]") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{99}, size_t{100}, size_t{101}, size_t{1000},
                      size_t{12345}}) {
    INFO("size " << size);
    const std::string input = pattern_bytes(size);
    auto chunks = split_into_chunks(42, input, 100);
    REQUIRE(chunks.ok());
    const size_t expected_count = size == 0 ? 1 : (size + 99) / 100;
    REQUIRE(chunks->size() == expected_count);
    ChunkAssembler assembler(ChunkAssemblerLimits{100, 1 << 20, 4});
    std::optional<std::string> whole;
    for (size_t i = 0; i < chunks->size(); ++i) {
      const Chunk& c = (*chunks)[i];
      CHECK(c.data.size() <= 100);
      CHECK(c.index == i);
      CHECK(c.count == expected_count);
      CHECK(c.total_bytes == size);
      // Through the wire format and back.
      auto decoded = corral::net::decode_chunk(corral::net::encode_chunk(c));
      REQUIRE(decoded.ok());
      REQUIRE(*decoded == c);
      auto r = assembler.add(7, *decoded);
      REQUIRE(r.ok());
      if (i + 1 < chunks->size()) {
        CHECK_FALSE(r->has_value());
        CHECK(assembler.reserved_bytes() == size);
      } else {
        REQUIRE(r->has_value());
        whole = **r;
      }
    }
    REQUIRE(whole.has_value());
    CHECK(*whole == input);
    CHECK(assembler.reserved_bytes() == 0);
    CHECK(assembler.incomplete_streams() == 0);
  }
  CHECK(split_into_chunks(1, "abc", 0).error().code == ErrorCode::kBadRequest);
}

TEST_CASE("chunker: streams from different senders interleave", "[net][chunker]") {
  const std::string a = pattern_bytes(350);
  const std::string b = std::string(280, 'b');
  auto ca = *split_into_chunks(1, a, 100);
  auto cb = *split_into_chunks(1, b, 100);  // same stream id, other sender
  ChunkAssembler assembler(ChunkAssemblerLimits{100, 1000, 4});
  std::optional<std::string> got_a, got_b;
  for (size_t i = 0; i < 4; ++i) {
    if (i < ca.size()) {
      auto r = assembler.add(1, ca[i]);
      REQUIRE(r.ok());
      if (r->has_value()) got_a = **r;
    }
    if (i < cb.size()) {
      auto r = assembler.add(2, cb[i]);
      REQUIRE(r.ok());
      if (r->has_value()) got_b = **r;
    }
  }
  REQUIRE(got_a.has_value());
  REQUIRE(got_b.has_value());
  CHECK(*got_a == a);
  CHECK(*got_b == b);
}

TEST_CASE("chunker: duplicate chunk is rejected and changes nothing", "[net][chunker]") {
  const std::string input = pattern_bytes(300);
  auto chunks = *split_into_chunks(5, input, 100);
  ChunkAssembler assembler(ChunkAssemblerLimits{100, 1000, 4});
  REQUIRE(assembler.add(1, chunks[0]).ok());
  REQUIRE(assembler.add(1, chunks[1]).ok());
  for (int dup : {0, 1}) {
    auto r = assembler.add(1, chunks[dup]);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kBadRequest);
    CHECK_THAT(r.error().message, Catch::Contains("duplicate"));
  }
  CHECK(assembler.incomplete_streams() == 1);
  auto last = assembler.add(1, chunks[2]);
  REQUIRE(last.ok());
  REQUIRE(last->has_value());
  CHECK(**last == input);
}

TEST_CASE("chunker: missing or out-of-order chunk aborts the stream", "[net][chunker]") {
  auto chunks = *split_into_chunks(5, pattern_bytes(400), 100);
  ChunkAssembler assembler(ChunkAssemblerLimits{100, 1000, 4});

  // A stream that starts after chunk 0 never had its start.
  auto late_start = assembler.add(1, chunks[1]);
  REQUIRE_FALSE(late_start.ok());
  CHECK_THAT(late_start.error().message, Catch::Contains("missing chunks 0..0"));
  CHECK(assembler.incomplete_streams() == 0);

  REQUIRE(assembler.add(1, chunks[0]).ok());
  auto gap = assembler.add(1, chunks[2]);  // chunk 1 lost
  REQUIRE_FALSE(gap.ok());
  CHECK(gap.error().code == ErrorCode::kBadRequest);
  CHECK_THAT(gap.error().message, Catch::Contains("chunk 1 missing"));
  CHECK(assembler.incomplete_streams() == 0);
  CHECK(assembler.reserved_bytes() == 0);
  // The rest of the aborted stream cannot resurrect it.
  CHECK_FALSE(assembler.add(1, chunks[3]).ok());
  CHECK(assembler.incomplete_streams() == 0);
}

TEST_CASE("chunker: oversized and inconsistent chunks are rejected", "[net][chunker]") {
  ChunkAssembler assembler(ChunkAssemblerLimits{100, 1000, 4});
  Chunk big{1, 0, 2, 150, std::string(101, 'x')};
  auto r = assembler.add(1, big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTooLarge);

  const Chunk bad_rows[] = {
      {1, 0, 0, 10, "x"},                        // count 0
      {1, 2, 2, 10, "x"},                        // index past count
      {1, 0, 3, 2, "x"},                         // more chunks than bytes
      {1, 0, 2, 300, std::string(100, 'x')},     // 2 chunks cannot carry 300 bytes
      {1, 0, 1, 5, "abc"},                       // single chunk, wrong size
      {1, 0, 2, 0, ""},                          // empty stream in 2 chunks
  };
  for (const Chunk& c : bad_rows) {
    auto res = assembler.add(1, c);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == ErrorCode::kBadRequest);
  }
  CHECK(assembler.incomplete_streams() == 0);

  // Mismatch with the stream's first chunk: rejected, stream kept.
  REQUIRE(assembler.add(1, Chunk{9, 0, 2, 150, std::string(100, 'a')}).ok());
  auto mismatch = assembler.add(1, Chunk{9, 1, 2, 151, std::string(51, 'b')});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(assembler.incomplete_streams() == 1);
  // Overflowing the declared total aborts.
  auto overflow = assembler.add(1, Chunk{9, 1, 2, 150, std::string(60, 'b')});
  REQUIRE_FALSE(overflow.ok());
  CHECK_THAT(overflow.error().message, Catch::Contains("more bytes than total_bytes"));
  CHECK(assembler.incomplete_streams() == 0);
  // Short last chunk: fewer bytes than declared.
  REQUIRE(assembler.add(1, Chunk{10, 0, 2, 150, std::string(100, 'a')}).ok());
  auto short_last = assembler.add(1, Chunk{10, 1, 2, 150, std::string(10, 'b')});
  REQUIRE_FALSE(short_last.ok());
  CHECK(assembler.reserved_bytes() == 0);

  CHECK(corral::net::decode_chunk("short").error().code == ErrorCode::kBadRequest);
}

TEST_CASE("chunker: memory bound on incomplete streams", "[net][chunker]") {
  ChunkAssembler assembler(ChunkAssemblerLimits{100, 500, 3});
  // Total larger than the whole bound.
  auto huge = assembler.add(1, Chunk{1, 0, 10, 501, std::string(100, 'x')});
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().code == ErrorCode::kTooLarge);

  REQUIRE(assembler.add(1, Chunk{1, 0, 3, 300, std::string(100, 'x')}).ok());
  REQUIRE(assembler.add(2, Chunk{1, 0, 2, 200, std::string(100, 'y')}).ok());
  CHECK(assembler.reserved_bytes() == 500);
  // A third sender does not fit: rejected, nothing changes.
  auto full = assembler.add(3, Chunk{1, 0, 2, 101, std::string(100, 'z')});
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == ErrorCode::kTooLarge);
  CHECK(assembler.reserved_bytes() == 500);
  CHECK(assembler.incomplete_streams() == 2);
  // A sender's new stream replaces its own older one, so it fits.
  REQUIRE(assembler.add(1, Chunk{2, 0, 2, 150, std::string(100, 'w')}).ok());
  CHECK(assembler.reserved_bytes() == 350);
  CHECK(assembler.incomplete_streams() == 2);
  assembler.drop_sender(2);
  CHECK(assembler.reserved_bytes() == 150);
  // Stream count bound.
  REQUIRE(assembler.add(4, Chunk{1, 0, 2, 2, "a"}).ok());
  REQUIRE(assembler.add(5, Chunk{1, 0, 2, 2, "a"}).ok());
  auto too_many = assembler.add(6, Chunk{1, 0, 2, 2, "a"});
  REQUIRE_FALSE(too_many.ok());
  CHECK_THAT(too_many.error().message, Catch::Contains("incomplete streams"));
  auto done = assembler.add(4, Chunk{1, 1, 2, 2, "b"});
  REQUIRE(done.ok());
  REQUIRE(done->has_value());
  CHECK(**done == "ab");
}
