#include "agent/source/line_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "coordinator/base/check.h"

namespace corral::agent::source {
namespace {

using fetch::FetchErrorCode;

// Up to `count` bytes at `offset` (fewer at end of file).
fetch::Result<std::string> pread_up_to(int fd, uint64_t offset, size_t count) {
  std::string out(count, '\0');
  size_t got = 0;
  while (got < count) {
    const ssize_t n = ::pread(fd, out.data() + got, count - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return fetch::make_fetch_error(FetchErrorCode::kUnavailable,
                                     std::string("pread: ") + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

LineChunk whole(std::string bytes, size_t length) {
  bytes.resize(length);
  return LineChunk{std::move(bytes), length};
}

LineChunk with_newline(std::string bytes) {
  const uint64_t consumed = bytes.size();
  bytes.push_back('\n');
  return LineChunk{std::move(bytes), consumed};
}

}  // namespace

fetch::Result<LineChunk> read_lines(int fd, uint64_t offset, uint64_t size, size_t max_bytes,
                                    size_t max_line_bytes, bool finished) {
  CORRAL_CHECK(max_bytes > 0 && max_line_bytes > 0);
  if (offset >= size) return LineChunk{};
  const uint64_t available = size - offset;
  fetch::Result<std::string> first =
      pread_up_to(fd, offset, static_cast<size_t>(std::min<uint64_t>(available, max_bytes)));
  if (!first.ok()) return first.error();
  const size_t last_newline = first->rfind('\n');
  if (last_newline != std::string::npos) return whole(std::move(first).value(), last_newline + 1);
  // No '\n' within max_bytes: the first line is longer than that, or partial.
  const auto window = static_cast<size_t>(std::min<uint64_t>(available, max_line_bytes));
  fetch::Result<std::string> line = first->size() >= window ? std::move(first)
                                                            : pread_up_to(fd, offset, window);
  if (!line.ok()) return line.error();
  const size_t newline = line->find('\n');
  if (newline != std::string::npos) return whole(std::move(line).value(), newline + 1);
  if (line->size() >= max_line_bytes) {
    return with_newline(std::move(line).value().substr(0, max_line_bytes));
  }
  if (finished && line->size() == available) return with_newline(std::move(line).value());
  return LineChunk{};
}

}  // namespace corral::agent::source
