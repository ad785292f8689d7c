#include "agent/sink/fs_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace corral::agent::sink {
namespace {

constexpr mode_t kDirMode = 0755;
// Bytes read per step while looking backwards for the last newline.
constexpr off_t kTailChunkBytes = 64 * 1024;

std::string parent_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status ensure_dir(const std::string& path) {
  if (::mkdir(path.c_str(), kDirMode) == 0) return sync_dir(parent_of(path));
  int err = errno;
  if (err != EEXIST) return errno_error("mkdir " + path, err);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return errno_error(path, ENOTDIR);
  return Status::ok_status();
}

}  // namespace

Status make_dirs(const std::string& path) {
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    if (path[pos - 1] == '/') continue;
    if (auto s = ensure_dir(path.substr(0, pos)); !s.ok()) return s;
  }
  if (path.empty() || path.back() == '/') return Status::ok_status();
  return ensure_dir(path);
}

Status sync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open directory " + path, errno);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_error("fsync directory " + path, err);
  return Status::ok_status();
}

Status write_all(int fd, std::string_view bytes, std::string_view path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("write " + std::string(path), errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok_status();
}

Status sync_file(int fd, std::string_view path) {
  int rc;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return errno_error("fdatasync " + std::string(path), errno);
  return Status::ok_status();
}

Result<off_t> file_size(int fd, std::string_view path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_error("fstat " + std::string(path), errno);
  return st.st_size;
}

Status trim_partial_tail(int fd, std::string_view path) {
  auto size = file_size(fd, path);
  if (!size.ok()) return size.error();
  std::vector<char> buf(kTailChunkBytes);
  off_t end = *size;
  while (end > 0) {
    off_t start = end > kTailChunkBytes ? end - kTailChunkBytes : 0;
    size_t want = static_cast<size_t>(end - start);
    ssize_t n = ::pread(fd, buf.data(), want, start);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(want)) return errno_error("pread " + std::string(path), n < 0 ? errno : EIO);
    for (size_t i = want; i > 0; --i) {
      if (buf[i - 1] != '\n') continue;
      off_t keep = start + static_cast<off_t>(i);
      if (keep == *size) return Status::ok_status();
      if (::ftruncate(fd, keep) != 0) return errno_error("ftruncate " + std::string(path), errno);
      return Status::ok_status();
    }
    end = start;
  }
  if (*size > 0 && ::ftruncate(fd, 0) != 0) return errno_error("ftruncate " + std::string(path), errno);
  return Status::ok_status();
}

}  // namespace corral::agent::sink
