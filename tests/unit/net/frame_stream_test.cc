// FrameStream on a socketpair: frames cut anywhere, large and empty frames,
// the bounds on both sides, a peer that closes, counted bytes.
#include "coordinator/net/frame_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using corral::net::FrameQueuedBytes;
using corral::net::FrameReadResult;
using corral::net::FrameSendResult;
using corral::net::FrameStream;
using corral::net::FrameStreamLimits;
using corral::net::kFrameHeaderBytes;

namespace {

constexpr auto kDeadline = std::chrono::seconds(10);
constexpr int kPollMs = 100;

// Two connected non-blocking stream sockets: [0] writes, [1] reads.
std::pair<int, int> socket_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  return {fds[0], fds[1]};
}

// The 4-byte big-endian length prefix, whatever follows it.
std::string header_claiming(uint32_t n) {
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                     static_cast<char>(n)};
}

std::string frame_bytes(const std::string& payload) {
  return header_claiming(static_cast<uint32_t>(payload.size())) + payload;
}

void write_raw(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    REQUIRE(n > 0);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Fills the kernel's buffers of `fd` until it takes no more.
size_t fill_kernel(int fd) {
  const std::string block(4096, 'f');
  size_t total = 0;
  while (true) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) return total;
    total += static_cast<size_t>(n);
  }
}

// Reads and throws away `bytes` bytes from `fd`, waiting as needed.
void drain_raw(int fd, size_t bytes) {
  std::string buf(65536, '\0');
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (bytes > 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, kPollMs);
    const ssize_t n = ::read(fd, buf.data(), std::min(bytes, buf.size()));
    if (n > 0) bytes -= static_cast<size_t>(n);
  }
  REQUIRE(bytes == 0);
}

void take_all(FrameStream& s, std::vector<std::string>& out) {
  std::string f;
  while (s.next_frame(f)) out.push_back(f);
}

// Moves frames from writer to reader until `want` frames came out.
std::vector<std::string> pump(FrameStream& writer, FrameStream& reader, size_t want, int* reads = nullptr) {
  std::vector<std::string> got;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(writer.flush());
    const uint64_t before = reader.bytes_read();
    REQUIRE(reader.read_some() == FrameReadResult::kOk);
    if (reads && reader.bytes_read() != before) ++*reads;
    take_all(reader, got);
    if (got.size() >= want) break;
    pollfd p[2] = {{reader.fd(), POLLIN, 0}, {writer.fd(), static_cast<short>(writer.wants_write() ? POLLOUT : 0), 0}};
    ::poll(p, 2, kPollMs);
  }
  return got;
}

std::vector<std::string> some_frames() {
  return {"", "a", "hello", std::string(300, 'x'), "", std::string(4, '\0'), "end"};
}

}  // namespace

TEST_CASE("frame stream: frames cut at every byte boundary", "[net][frame]") {
  const std::vector<std::string> frames = some_frames();
  std::string stream;
  for (const auto& f : frames) stream += frame_bytes(f);

  SECTION("the stream in two pieces, at every cut") {
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
      auto [w, r] = socket_pair();
      FrameStream reader(r, FrameStreamLimits{});
      std::vector<std::string> got;
      write_raw(w, std::string_view(stream).substr(0, cut));
      REQUIRE(reader.read_some() == FrameReadResult::kOk);
      take_all(reader, got);
      write_raw(w, std::string_view(stream).substr(cut));
      REQUIRE(reader.read_some() == FrameReadResult::kOk);
      take_all(reader, got);
      ::close(w);
      REQUIRE(got == frames);
    }
  }
  SECTION("byte by byte") {
    auto [w, r] = socket_pair();
    FrameStream reader(r, FrameStreamLimits{});
    std::vector<std::string> got;
    std::vector<size_t> frames_after;  // how many frames were out after each byte
    for (char c : stream) {
      write_raw(w, std::string_view(&c, 1));
      REQUIRE(reader.read_some() == FrameReadResult::kOk);
      take_all(reader, got);
      frames_after.push_back(got.size());
    }
    ::close(w);
    REQUIRE(got == frames);
    // Each frame comes out exactly at its last byte, not before.
    size_t end = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      end += kFrameHeaderBytes + frames[i].size();
      CHECK(frames_after[end - 1] == i + 1);
      CHECK(frames_after[end - 2] == i);
    }
    CHECK(reader.bytes_read() == stream.size());
  }
}

TEST_CASE("frame stream: a 10 MiB frame across many reads", "[net][frame]") {
  auto [w, r] = socket_pair();
  FrameStream writer(w, FrameStreamLimits{});
  FrameStream reader(r, FrameStreamLimits{});
  std::string big(10u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  REQUIRE(writer.send(big) == FrameSendResult::kSent);
  CHECK(writer.queued_frames() == 1);  // the kernel took only part of it
  REQUIRE(writer.send("after") == FrameSendResult::kSent);
  int reads = 0;
  auto got = pump(writer, reader, 2, &reads);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == big);
  CHECK(got[1] == "after");
  CHECK(reads > 1);
  CHECK_FALSE(writer.wants_write());
  CHECK(reader.bytes_read() == big.size() + 5 + 2 * kFrameHeaderBytes);

  SECTION("and refused whole by a reader whose bound is lower") {
    auto [w2, r2] = socket_pair();
    FrameStream writer2(w2, FrameStreamLimits{});
    FrameStreamLimits small;
    small.max_frame_bytes = (10u << 20) - 1;
    FrameStream reader2(r2, small);
    REQUIRE(writer2.send(big) == FrameSendResult::kSent);
    CHECK(reader2.read_some() == FrameReadResult::kTooLarge);
    CHECK(reader2.frames_ready() == 0);
    CHECK(reader2.failed());
  }
}

TEST_CASE("frame stream: empty frames", "[net][frame]") {
  auto [w, r] = socket_pair();
  FrameStream writer(w, FrameStreamLimits{});
  FrameStream reader(r, FrameStreamLimits{});
  for (int i = 0; i < 3; ++i) REQUIRE(writer.send(std::string_view()) == FrameSendResult::kSent);
  auto got = pump(writer, reader, 3);
  CHECK(got == std::vector<std::string>(3));
  CHECK(reader.bytes_read() == 3 * kFrameHeaderBytes);
}

TEST_CASE("frame stream: a length prefix past max_frame_bytes", "[net][frame]") {
  FrameStreamLimits limits;
  limits.max_frame_bytes = 100;
  for (uint32_t claimed : {101u, 1u << 20, 0xffffffffu}) {
    INFO("claimed " << claimed);
    auto [w, r] = socket_pair();
    FrameStream reader(r, limits);
    write_raw(w, frame_bytes("before") + frame_bytes(std::string(100, 'm')) + header_claiming(claimed) +
                     std::string(101, 'z'));
    CHECK(reader.read_some() == FrameReadResult::kTooLarge);
    CHECK(reader.failed());
    std::vector<std::string> got;
    take_all(reader, got);
    // What came before it is whole and delivered; nothing of it or after.
    CHECK(got == std::vector<std::string>{"before", std::string(100, 'm')});
    write_raw(w, frame_bytes("later"));
    CHECK(reader.read_some() == FrameReadResult::kTooLarge);
    CHECK(reader.frames_ready() == 0);
    ::close(w);
  }
}

TEST_CASE("frame stream: the opening bytes are kept, and a ZeroMQ greeting is told from frames", "[net][frame]") {
  // libzmq's ZMTP 3 signature: 0xFF, eight bytes, 0x7F, then the version.
  const std::string zmtp = std::string("\xff\0\0\0\0\0\0\0\x01\x7f\x03", 11);
  {
    auto [w, r] = socket_pair();
    FrameStream reader(r, FrameStreamLimits{});
    write_raw(w, zmtp);
    CHECK(reader.read_some() == FrameReadResult::kTooLarge);
    CHECK(reader.opening() == zmtp);
    CHECK(corral::net::looks_like_zmtp(reader.opening()));
    ::close(w);
  }
  {
    // Frames: the opening is the first kOpeningBytes read, whatever parsed them.
    auto [w, r] = socket_pair();
    FrameStream reader(r, FrameStreamLimits{});
    const std::string bytes = frame_bytes("hello, a frame") + frame_bytes("more");
    write_raw(w, bytes);
    CHECK(reader.read_some() == FrameReadResult::kOk);
    CHECK(reader.opening() == bytes.substr(0, FrameStream::kOpeningBytes));
    CHECK_FALSE(corral::net::looks_like_zmtp(reader.opening()));
    ::close(w);
  }
  CHECK(corral::net::looks_like_zmtp(std::string("\xff", 1)));  // too short to tell: 0xFF is no frame
  CHECK_FALSE(corral::net::looks_like_zmtp(std::string("\xff\0\0\0\0\0\0\0\x01\x00", 10)));
  CHECK_FALSE(corral::net::looks_like_zmtp(""));
  CHECK_FALSE(corral::net::looks_like_zmtp(header_claiming(21) + "CRLP"));
}

TEST_CASE("frame stream: the write queue's bounds in count and in bytes", "[net][frame]") {
  FrameStreamLimits limits;
  auto [w, r] = socket_pair();
  SECTION("count") {
    limits.max_queued_frames = 3;
    FrameStream writer(w, limits);
    const size_t filled = fill_kernel(w);
    for (int i = 0; i < 3; ++i) REQUIRE(writer.send("q" + std::to_string(i)) == FrameSendResult::kSent);
    CHECK(writer.queued_frames() == 3);
    CHECK(writer.send("refused") == FrameSendResult::kBackpressure);
    std::string counted_refused = "refused too";
    auto counter = std::make_shared<std::atomic<int64_t>>(0);
    CHECK(writer.send(std::move(counted_refused), counter) == FrameSendResult::kBackpressure);
    CHECK(counted_refused == "refused too");  // not consumed
    CHECK(*counter == 0);
    CHECK(writer.queued_frames() == 3);
    // Once the reader takes the filler, the queue goes out in order.
    drain_raw(r, filled);
    FrameStream reader(r, FrameStreamLimits{});
    auto got = pump(writer, reader, 3);
    CHECK(got == std::vector<std::string>{"q0", "q1", "q2"});
    CHECK(writer.queued_frames() == 0);
    CHECK(writer.send("after") == FrameSendResult::kSent);
  }
  SECTION("bytes: a send that would go past the bound is refused") {
    limits.max_queued_frames = 1000;
    limits.max_queued_bytes = 10000;
    FrameStream writer(w, limits);
    const size_t filled = fill_kernel(w);
    auto counter = std::make_shared<std::atomic<int64_t>>(0);
    const std::string payload(3000, 'b');
    int taken = 0;
    FrameSendResult last = FrameSendResult::kSent;
    while (last == FrameSendResult::kSent && taken < 100) {
      std::string bytes = payload;
      last = writer.send(std::move(bytes), counter);
      if (last == FrameSendResult::kSent) ++taken;
    }
    CHECK(last == FrameSendResult::kBackpressure);
    // 3 x 3004 bytes fit in 10000, a fourth would not.
    CHECK(taken == 3);
    CHECK(*counter == 3 * 3000);
    CHECK(writer.send(std::string(1000, 'u')) == FrameSendResult::kBackpressure);  // 9012 + 1004 > 10000
    CHECK(writer.send(std::string(984, 'u')) == FrameSendResult::kSent);           // 9012 + 988 = 10000
    CHECK(writer.send(std::string_view()) == FrameSendResult::kBackpressure);
    CHECK(writer.queued_frames() == 4);
    drain_raw(r, filled);
    FrameStream reader(r, FrameStreamLimits{});
    auto got = pump(writer, reader, 4);
    REQUIRE(got.size() == 4);
    CHECK(got[0] == payload);
    CHECK(got[3] == std::string(984, 'u'));
    CHECK(*counter == 0);
  }
  SECTION("a frame larger than the byte bound still goes out alone") {
    limits.max_queued_bytes = 100;
    FrameStream writer(w, limits);
    const size_t filled = fill_kernel(w);
    REQUIRE(writer.send(std::string(1000, 'L')) == FrameSendResult::kSent);
    CHECK(writer.send("x") == FrameSendResult::kBackpressure);
    drain_raw(r, filled);
    FrameStream reader(r, FrameStreamLimits{});
    auto got = pump(writer, reader, 1);
    CHECK(got == std::vector<std::string>{std::string(1000, 'L')});
  }
}

TEST_CASE("frame stream: a reader at max_read_frames stops reading", "[net][frame]") {
  auto [w, r] = socket_pair();
  FrameStreamLimits limits;
  limits.max_read_frames = 2;
  FrameStream writer(w, FrameStreamLimits{});
  FrameStream reader(r, limits);
  for (int i = 0; i < 5; ++i) REQUIRE(writer.send("m" + std::to_string(i)) == FrameSendResult::kSent);
  CHECK(reader.read_some() == FrameReadResult::kOk);
  CHECK(reader.frames_ready() == 2);
  CHECK(reader.read_some() == FrameReadResult::kOk);
  CHECK(reader.frames_ready() == 2);  // at the bound: nothing more read
  std::vector<std::string> got;
  std::string f;
  for (int i = 0; i < 10 && got.size() < 5; ++i) {
    if (reader.next_frame(f)) got.push_back(f);
    REQUIRE(reader.read_some() == FrameReadResult::kOk);
    CHECK(reader.frames_ready() <= 2);
  }
  CHECK(got == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"});
}

TEST_CASE("frame stream: the peer closing", "[net][frame]") {
  SECTION("frames already read still come out, a cut frame does not") {
    auto [w, r] = socket_pair();
    FrameStream reader(r, FrameStreamLimits{});
    write_raw(w, frame_bytes("a") + frame_bytes("b") + header_claiming(10) + "cut");
    ::close(w);
    // A read that ends short stops there: the end of the stream may take
    // one more call (epoll keeps reporting it).
    FrameReadResult result = FrameReadResult::kOk;
    for (int i = 0; i < 3 && result == FrameReadResult::kOk; ++i) result = reader.read_some();
    CHECK(result == FrameReadResult::kClosed);
    CHECK(reader.failed());
    std::vector<std::string> got;
    take_all(reader, got);
    CHECK(got == std::vector<std::string>{"a", "b"});
    CHECK(reader.read_some() == FrameReadResult::kClosed);
  }
  SECTION("a counted frame sent into a closed connection is not consumed") {
    auto [w, r] = socket_pair();
    FrameStream writer(w, FrameStreamLimits{});
    ::close(r);
    auto counter = std::make_shared<std::atomic<int64_t>>(0);
    std::string bytes = "kept";
    CHECK(writer.send(std::move(bytes), counter) == FrameSendResult::kFailed);
    CHECK(bytes == "kept");
    CHECK(*counter == 0);
  }
  SECTION("the writer learns it and drops its queue") {
    auto [w, r] = socket_pair();
    FrameStream writer(w, FrameStreamLimits{});
    fill_kernel(w);
    auto counter = std::make_shared<std::atomic<int64_t>>(0);
    REQUIRE(writer.send(std::string(500, 'q'), counter) == FrameSendResult::kSent);
    CHECK(*counter == 500);
    ::close(r);
    CHECK_FALSE(writer.flush());
    CHECK(writer.failed());
    CHECK(writer.queued_frames() == 0);
    CHECK(*counter == 0);
    CHECK(writer.send("x") == FrameSendResult::kFailed);
    std::string more = "y";
    CHECK(writer.send(std::move(more), counter) == FrameSendResult::kFailed);
    CHECK(*counter == 0);
  }
}

TEST_CASE("frame stream: counted bytes go back to 0", "[net][frame]") {
  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  SECTION("written at once") {
    auto [w, r] = socket_pair();
    FrameStream writer(w, FrameStreamLimits{});
    std::string bytes(1000, 'c');
    REQUIRE(writer.send(std::move(bytes), counter) == FrameSendResult::kSent);
    CHECK(*counter == 0);
    ::close(r);
  }
  SECTION("queued, then written") {
    auto [w, r] = socket_pair();
    FrameStream writer(w, FrameStreamLimits{});
    const size_t filled = fill_kernel(w);
    for (int i = 0; i < 3; ++i) REQUIRE(writer.send(std::string(1000, 'c'), counter) == FrameSendResult::kSent);
    CHECK(*counter == 3000);
    drain_raw(r, filled);
    FrameStream reader(r, FrameStreamLimits{});
    CHECK(pump(writer, reader, 3).size() == 3);
    CHECK(*counter == 0);
  }
  SECTION("queued, then the stream is destroyed") {
    auto [w, r] = socket_pair();
    {
      FrameStream writer(w, FrameStreamLimits{});
      fill_kernel(w);
      REQUIRE(writer.send(std::string(1000, 'c'), counter) == FrameSendResult::kSent);
      REQUIRE(writer.send(std::string(1000, 'd'), counter) == FrameSendResult::kSent);
      CHECK(*counter == 2000);
    }
    CHECK(*counter == 0);
    ::close(r);
  }
}

TEST_CASE("frame stream: max_first_frame_bytes bounds only the first frame", "[net][frame]") {
  FrameStreamLimits limits;
  limits.max_frame_bytes = 1000;
  limits.max_first_frame_bytes = 21;
  SECTION("a first frame at the bound, then bigger ones") {
    auto [w, r] = socket_pair();
    FrameStream reader(r, limits);
    write_raw(w, frame_bytes(std::string(21, 'h')) + frame_bytes(std::string(1000, 'm')));
    CHECK(reader.read_some() == FrameReadResult::kOk);
    std::vector<std::string> got;
    take_all(reader, got);
    CHECK(got == std::vector<std::string>{std::string(21, 'h'), std::string(1000, 'm')});
    ::close(w);
  }
  SECTION("a first frame past it: kTooLarge at its length prefix") {
    auto [w, r] = socket_pair();
    FrameStream reader(r, limits);
    write_raw(w, header_claiming(22));
    CHECK(reader.read_some() == FrameReadResult::kTooLarge);
    CHECK(reader.frames_ready() == 0);
    ::close(w);
  }
}

TEST_CASE("frame stream: a reader at max_read_bytes stops reading", "[net][frame]") {
  auto [w, r] = socket_pair();
  FrameStreamLimits limits;
  limits.max_read_bytes = 1000;
  FrameStream reader(r, limits);
  std::string stream;
  for (int i = 0; i < 10; ++i) stream += frame_bytes(std::string(300, static_cast<char>('a' + i)));
  stream += frame_bytes(std::string(2000, 'B'));  // bigger than the bound: comes out alone
  stream += frame_bytes("tail");
  write_raw(w, stream);
  CHECK(reader.read_some() == FrameReadResult::kOk);
  CHECK(reader.frames_ready() == 3);  // 900 bytes; a fourth would make 1200
  std::vector<std::string> got;
  std::string f;
  for (int i = 0; i < 40 && got.size() < 12; ++i) {
    if (reader.next_frame(f)) got.push_back(f);
    REQUIRE(reader.read_some() == FrameReadResult::kOk);
    CHECK(reader.frames_ready() <= 3);
  }
  REQUIRE(got.size() == 12);
  for (int i = 0; i < 10; ++i) CHECK(got[i] == std::string(300, static_cast<char>('a' + i)));
  CHECK(got[10] == std::string(2000, 'B'));
  CHECK(got[11] == "tail");
  ::close(w);
}

namespace {

// Resident memory of this process, in bytes.
size_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  REQUIRE(f);
  unsigned long size = 0, resident = 0;
  REQUIRE(std::fscanf(f, "%lu %lu", &size, &resident) == 2);
  std::fclose(f);
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("frame stream: memory follows the bytes that came, not the length a prefix claims", "[net][frame]") {
  auto [w, r] = socket_pair();
  FrameStreamLimits limits;
  limits.max_frame_bytes = 512u << 20;
  FrameStream reader(r, limits);
  const size_t before = resident_bytes();
  write_raw(w, header_claiming(500u << 20) + "0123456789");
  CHECK(reader.read_some() == FrameReadResult::kOk);
  write_raw(w, "more");  // a second read, now that the length is known
  CHECK(reader.read_some() == FrameReadResult::kOk);
  CHECK(reader.read_some() == FrameReadResult::kOk);
  CHECK(reader.frames_ready() == 0);
  CHECK(reader.bytes_read() == kFrameHeaderBytes + 14);
  // Growing twofold per read at most: a few reads' worth, not 500 MiB.
  CHECK(resident_bytes() - before < (16u << 20));
  // (That such a frame still comes out whole: the 10 MiB case.)
  ::close(w);
}
