#include "coordinator/server/install_intent.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "coordinator/server/snapshot_file.h"
#include "coordinator/storage/raft_records.h"

namespace corral::server {

namespace {

constexpr std::string_view kIntentMagic = "CRLINST1";

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorCode::kStorage, what + " " + path + ": " + std::strerror(errno));
}

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot write", path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

Status sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir);
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return io_error("cannot sync directory", dir);
  return Status();
}

uint32_t get_u32(std::string_view p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string install_intent_path(const std::string& data_dir) { return data_dir + "/snapshot-install.intent"; }

Status write_install_intent(const std::string& path, const raft::SnapshotMetadata& meta, std::string_view image) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", tmp);
  const std::string md = storage::encode_snapshot_metadata(meta);
  std::string head(kIntentMagic);
  for (int i = 0; i < 4; ++i) head.push_back(static_cast<char>((md.size() >> (8 * i)) & 0xff));
  head += md;
  Status s = write_all(fd, head, tmp);
  if (s.ok()) s = write_all(fd, image, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = io_error("cannot sync", tmp);
  ::close(fd);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path);
  return sync_directory(directory_of(path));
}

Result<InstallIntent> read_install_intent(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(ErrorCode::kNotFound, "no install intent at " + path);
    return io_error("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error("cannot stat", path);
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxSnapshotFileBytes + 4096) {
    ::close(fd);
    return make_error(ErrorCode::kBadRequest, "install intent " + path + " is past any snapshot's size");
  }
  std::string bytes(size, '\0');
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, bytes.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != size) return io_error("cannot read", path);
  const std::string_view all(bytes);
  if (all.size() < kIntentMagic.size() + 4 || all.substr(0, kIntentMagic.size()) != kIntentMagic) {
    return make_error(ErrorCode::kBadRequest, "install intent " + path + ": bad magic");
  }
  const uint32_t md_len = get_u32(all.substr(kIntentMagic.size(), 4));
  const size_t md_at = kIntentMagic.size() + 4;
  if (all.size() - md_at < md_len) return make_error(ErrorCode::kBadRequest, "install intent " + path + ": truncated");
  auto meta = storage::decode_snapshot_metadata(all.substr(md_at, md_len));
  if (!meta.ok()) return make_error(ErrorCode::kBadRequest, "install intent " + path + ": " + meta.error().message);
  InstallIntent out;
  out.meta = std::move(meta).value();
  bytes.erase(0, md_at + md_len);
  out.image = std::move(bytes);
  return out;
}

Status remove_install_intent(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path);
  return sync_directory(directory_of(path));
}

}  // namespace corral::server
