#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <thread>

#include "agent/sink/stdout_sink.h"

namespace corral::agent::sink {
namespace {

const Clock::time_point kNoDeadline = Clock::time_point::max();

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
};

std::string read_exactly(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, out.data() + got, n - got);
    REQUIRE(r > 0);
    got += static_cast<size_t>(r);
  }
  return out;
}

}  // namespace

TEST_CASE("stdout sink writes the batches in order to its fd", "[agent_sink][stdout]") {
  Pipe pipe;
  StdoutSink sink(pipe.write_end);
  REQUIRE(sink.append("web/access/1.1.1.1", "a1\na2\n", kNoDeadline).ok());
  REQUIRE(sink.append("web/error/1.1.1.1", "e1\n", kNoDeadline).ok());
  REQUIRE(sink.make_durable("web/access/1.1.1.1").ok());
  CHECK(read_exactly(pipe.read_end, 9) == "a1\na2\ne1\n");
  CHECK(sink.close("web/access/1.1.1.1").ok());
  auto bad = sink.append("web/access/1.1.1.1", "partial", kNoDeadline);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == SinkErrorCode::kBadInput);
}

TEST_CASE("stdout sink blocks while the reader does not read: memory stays in the pipe", "[agent_sink][stdout]") {
  Pipe pipe;
  constexpr int kPipeBytes = 4096;
  int capacity = ::fcntl(pipe.write_end, F_SETPIPE_SZ, kPipeBytes);
  REQUIRE(capacity >= kPipeBytes);
  const std::string line = std::string(99, 'x') + "\n";
  std::string batch;
  while (batch.size() < static_cast<size_t>(capacity) * 8) batch += line;
  StdoutSink sink(pipe.write_end);
  std::atomic<size_t> read_total{0};
  size_t read_when_done = 0;
  Status result;
  std::thread writer([&] {
    result = sink.append("a/t/1.1.1.1", batch, kNoDeadline);
    read_when_done = read_total.load();
  });
  std::string got;
  while (got.size() < batch.size()) {
    char buf[512];
    ssize_t r = ::read(pipe.read_end, buf, sizeof buf);
    REQUIRE(r > 0);
    got.append(buf, static_cast<size_t>(r));
    read_total = got.size();
  }
  writer.join();
  REQUIRE(result.ok());
  CHECK(got == batch);
  // append could only return once all but a pipe's worth had been read.
  CHECK(read_when_done + static_cast<size_t>(capacity) >= batch.size());
}

TEST_CASE("stdout sink: a reader gone is kClosed and sticky until close", "[agent_sink][stdout]") {
  std::signal(SIGPIPE, SIG_IGN);
  Pipe pipe;
  ::close(pipe.read_end);
  pipe.read_end = -1;
  StdoutSink sink(pipe.write_end);
  auto s = sink.append("a/t/1.1.1.1", "x\n", kNoDeadline);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == SinkErrorCode::kClosed);
  auto durable = sink.make_durable("a/t/1.1.1.1");
  REQUIRE_FALSE(durable.ok());
  CHECK(durable.error().code == SinkErrorCode::kClosed);
  CHECK(sink.make_durable("a/t/2.2.2.2").ok());  // another task appended nothing
  CHECK_FALSE(sink.close("a/t/1.1.1.1").ok());
  CHECK(sink.make_durable("a/t/1.1.1.1").ok());
}

}  // namespace corral::agent::sink
