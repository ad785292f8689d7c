#include "coordinator/storage/wal_torn_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "coordinator/storage/wal_format.h"

namespace corral::storage {

using namespace wal_format;

void TornTailWalker::block(std::string_view bytes, uint64_t base) {
  for (size_t i = bytes.size(); i > 0; --i) {
    if (bytes[i - 1] != '\0') {
      nonzero_end_ = base + i;
      break;
    }
  }
  if (stopped_) return;
  uint64_t at = 0;
  while (bytes.size() - at >= kHeaderSize) {
    const Header h = header_at(bytes, at);
    if (h.type == kZeroType && h.length == 0) return;  // padding or zeros: RocksDB skips the rest of the block
    if (h.type == kZeroType || h.type > kLastType || kHeaderSize + h.length > bytes.size() - at) {
      stopped_ = true;
      return;
    }
    const Fragment f{base + at, h.length, h.type, h.crc};
    const uint64_t end = base + at + kHeaderSize + h.length;
    if (h.type == kFullType) {
      in_record_ = false;
      last_.assign(1, f);
      whole_end_ = end;
    } else if (h.type == kFirstType) {
      in_record_ = true;
      open_.assign(1, f);
    } else if (in_record_) {  // a MIDDLE or LAST after its FIRST; one without is left out
      open_.push_back(f);
      if (h.type == kLastType) {
        in_record_ = false;
        last_.swap(open_);
        open_.clear();
        whole_end_ = end;
      }
    }
    at += kHeaderSize + h.length;
  }
}

std::optional<uint64_t> TornTailWalker::cut_at(const std::function<std::string(uint64_t, uint64_t)>& read) const {
  if (stopped_) return std::nullopt;
  if (nonzero_end_ > whole_end_) return whole_end_;  // part of a write after the last whole one
  for (const Fragment& f : last_) {
    const std::string payload = read(f.at + kHeaderSize, f.length);
    if (payload.size() != f.length ||
        masked_crc32c(static_cast<unsigned char>(f.type), payload.data(), payload.size()) != f.crc) {
      return last_.front().at;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> find_torn_wal_tail(std::string_view bytes) {
  TornTailWalker walker;
  for (uint64_t base = 0; base < bytes.size(); base += kBlockSize) walker.block(bytes.substr(base, kBlockSize), base);
  return walker.cut_at([&](uint64_t offset, uint64_t length) {
    return offset > bytes.size() ? std::string() : std::string(bytes.substr(offset, length));
  });
}

namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Bytes [offset, offset + length) of the file, fewer at its end.
std::string pread_some(int fd, uint64_t offset, uint64_t length) {
  std::string bytes(length, '\0');
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, bytes.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

// Where to cut one WAL file of `size` bytes, or nullopt; reads it a block
// at a time. A short read is an error: a walk over part of the file would
// take the rest for missing.
Result<std::optional<uint64_t>> torn_tail_of(int fd, const std::filesystem::path& path, uint64_t size) {
  TornTailWalker walker;
  for (uint64_t base = 0; base < size; base += kBlockSize) {
    const uint64_t want = std::min<uint64_t>(kBlockSize, size - base);
    std::string block = pread_some(fd, base, want);
    if (block.size() != want) return make_error(ErrorCode::kStorage, errno_text("cannot read the WAL file", path));
    walker.block(block, base);
  }
  bool short_read = false;
  auto cut = walker.cut_at([&](uint64_t offset, uint64_t length) {
    std::string bytes = pread_some(fd, offset, length);
    if (bytes.size() != length && offset + length <= size) short_read = true;
    return bytes;
  });
  if (short_read) return make_error(ErrorCode::kStorage, errno_text("cannot read the WAL file", path));
  return cut;
}

}  // namespace

Result<std::vector<std::string>> cut_torn_wal_tails(const std::string& dir) {
  std::vector<std::string> cuts;
  for (const auto& path : wal_file_paths(dir)) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return make_error(ErrorCode::kStorage, errno_text("cannot open the WAL file", path));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      auto error = make_error(ErrorCode::kStorage, errno_text("cannot stat the WAL file", path));
      ::close(fd);
      return error;
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    auto cut = torn_tail_of(fd, path, size);
    if (cut.ok() && cut->has_value() && **cut < size) {
      const uint64_t at = **cut;
      if (::ftruncate(fd, static_cast<off_t>(at)) != 0 || ::fsync(fd) != 0) {
        auto error = make_error(ErrorCode::kStorage, errno_text("cannot cut the torn tail of the WAL file", path));
        ::close(fd);
        return error;
      }
      cuts.push_back(path.filename().string() + ": cut at offset " + std::to_string(at) + " (" + std::to_string(size - at) + " bytes: a write torn by a crash, never synced)");
    }
    ::close(fd);
    if (!cut.ok()) return cut.error();
  }
  return cuts;
}

}  // namespace corral::storage
