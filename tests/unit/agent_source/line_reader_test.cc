#include "agent/source/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "agent/fetch/fetch_types.h"
#include "tests/unit/agent_source/source_test_util.h"

using corral::agent::source::LineChunk;
using corral::agent::source::read_lines;
using corral::agent::source::testing::append;
using corral::agent::source::testing::TempDir;

namespace {

struct File {
  File(const TempDir& dir, const std::string& content) : path(dir.file("f.log")) {
    append(path, content);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    size = content.size();
  }
  ~File() { ::close(fd); }
  LineChunk read(uint64_t offset, size_t max_bytes, size_t max_line, bool finished) {
    auto chunk = read_lines(fd, offset, size, max_bytes, max_line, finished);
    REQUIRE(chunk.ok());
    return std::move(chunk).value();
  }
  std::string path;
  int fd = -1;
  uint64_t size = 0;
};

}  // namespace

TEST_CASE("only whole lines are returned and a partial last line is held back", "[lines]") {
  TempDir dir;
  File f(dir, "one\ntwo\nthr");
  LineChunk all = f.read(0, 1000, 100, false);
  CHECK(all.data == "one\ntwo\n");
  CHECK(all.consumed == 8);
  CHECK(f.read(8, 1000, 100, false).data.empty());
  LineChunk capped = f.read(0, 6, 100, false);  // "one\ntw" holds one whole line
  CHECK(capped.data == "one\n");
  CHECK(capped.consumed == 4);
}

TEST_CASE("a finished file's last line without newline gets one", "[lines]") {
  TempDir dir;
  File f(dir, "one\nlast");
  LineChunk tail = f.read(4, 1000, 100, true);
  CHECK(tail.data == "last\n");
  CHECK(tail.consumed == 4);
  CHECK(f.read(8, 1000, 100, true).data.empty());
}

TEST_CASE("a line longer than max_bytes comes back alone and whole", "[lines]") {
  TempDir dir;
  const std::string long_line = std::string(50, 'x') + "\n";
  File f(dir, long_line + "short\n");
  LineChunk first = f.read(0, 10, 100, false);
  CHECK(first.data == long_line);
  CHECK(first.consumed == long_line.size());
  CHECK(f.read(first.consumed, 10, 100, false).data == "short\n");
}

TEST_CASE("a line longer than the line limit is cut into newline-ended pieces", "[lines]") {
  TempDir dir;
  const size_t limit = corral::agent::fetch::kMaxLineBytes;
  std::string huge;
  for (size_t i = 0; i < limit * 5 / 2; ++i) huge.push_back(static_cast<char>('a' + i % 26));
  File f(dir, huge + "\nnext\n");
  std::string joined;
  uint64_t offset = 0;
  int pieces = 0;
  while (offset < huge.size() + 1) {
    LineChunk c = f.read(offset, 4096, limit, false);
    REQUIRE(!c.data.empty());
    REQUIRE(c.data.back() == '\n');
    CHECK(c.data.size() <= limit + 1);
    joined += c.data.substr(0, c.data.size() - 1);
    offset += c.consumed;
    ++pieces;
  }
  CHECK(pieces == 3);
  CHECK(joined == huge);
  CHECK(offset == huge.size() + 1);
  CHECK(f.read(offset, 4096, limit, false).data == "next\n");
}
