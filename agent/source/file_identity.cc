#include "agent/source/file_identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace corral::agent::source {
namespace {

using fetch::FetchErrorCode;
using fetch::make_fetch_error;

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;
constexpr size_t kIdFields = 4;

fetch::FetchError io_error(const char* what) {
  return make_fetch_error(FetchErrorCode::kUnavailable, std::string(what) + ": " + std::strerror(errno));
}

// Reads exactly `count` bytes at offset 0, or fewer at end of file.
Result<std::string> read_prefix(int fd, size_t count) {
  std::string out(count, '\0');
  size_t got = 0;
  while (got < count) {
    const ssize_t n = ::pread(fd, out.data() + got, count - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("pread");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

bool parse_hex(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 16) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = kFnvOffsetBasis;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

std::string FileIdentity::id() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%llx-%llx-%x-%016llx", static_cast<unsigned long long>(device),
                static_cast<unsigned long long>(inode), fingerprint_bytes,
                static_cast<unsigned long long>(fingerprint));
  return buf;
}

std::optional<FileIdentity> FileIdentity::parse(std::string_view id) {
  // A ".<n>" suffix tells apart ids that would otherwise be equal (stream_files.h).
  id = id.substr(0, id.find('.'));
  uint64_t fields[kIdFields] = {};
  size_t field = 0;
  while (field < kIdFields) {
    const size_t dash = id.find('-');
    const bool last = field + 1 == kIdFields;
    if (last != (dash == std::string_view::npos)) return std::nullopt;
    if (!parse_hex(id.substr(0, dash), fields[field])) return std::nullopt;
    id = last ? std::string_view() : id.substr(dash + 1);
    ++field;
  }
  if (fields[2] == 0 || fields[2] > kFingerprintBytes) return std::nullopt;
  return FileIdentity{fields[0], fields[1], static_cast<uint32_t>(fields[2]), fields[3]};
}

Result<FileIdentity> identify(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("fstat");
  if (!S_ISREG(st.st_mode)) return make_fetch_error(FetchErrorCode::kBadRequest, "not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);
  const auto want = static_cast<size_t>(std::min<uint64_t>(size, kFingerprintBytes));
  Result<std::string> prefix = read_prefix(fd, want);
  if (!prefix.ok()) return prefix.error();
  if (prefix->empty()) return make_fetch_error(FetchErrorCode::kUnavailable, "empty file");
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                      static_cast<uint32_t>(prefix->size()), fnv1a64(*prefix)};
}

Result<bool> matches(const FileIdentity& identity, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("fstat");
  if (static_cast<uint64_t>(st.st_dev) != identity.device ||
      static_cast<uint64_t>(st.st_ino) != identity.inode) {
    return false;
  }
  Result<std::string> prefix = read_prefix(fd, identity.fingerprint_bytes);
  if (!prefix.ok()) return prefix.error();
  return prefix->size() == identity.fingerprint_bytes && fnv1a64(*prefix) == identity.fingerprint;
}

}  // namespace corral::agent::source
