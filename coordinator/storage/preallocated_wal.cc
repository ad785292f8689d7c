#include "coordinator/storage/preallocated_wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace corral::storage {
namespace {

rocksdb::IOStatus io_error(const std::string& what, const std::string& path, int err) {
  return rocksdb::IOStatus::IOError(what + " " + path + ": " + std::strerror(err));
}

// Writes all of [data, data + size) at `offset`, through short writes and EINTR.
int pwrite_all(int fd, const char* data, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

class PreallocatedWalFile final : public rocksdb::FSWritableFile {
 public:
  PreallocatedWalFile(std::string path, int fd, const rocksdb::FileOptions& options)
      : FSWritableFile(options), path_(std::move(path)), fd_(fd) {}
  ~PreallocatedWalFile() override {
    if (fd_ >= 0) (void)close_file();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return append(data);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&, const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext*) override {
    return append(data);
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate", path_, errno);
    length_ = size;
    allocated_ = size;
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return close_file(); }
  // Appends go to the kernel at once: there is nothing of ours to flush.
  rocksdb::IOStatus Flush(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_, errno);
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    if (::fsync(fd_) != 0) return io_error("fsync", path_, errno);
    return rocksdb::IOStatus::OK();
  }
  // fdatasync may run beside a pwrite (RocksDB's SyncWAL needs it to).
  bool IsSyncThreadSafe() const override { return true; }
  uint64_t GetFileSize(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return length_; }

 private:
  rocksdb::IOStatus append(const rocksdb::Slice& data) {
    if (length_ + data.size() > allocated_) {
      auto s = allocate_through(length_ + data.size());
      if (!s.ok()) return s;
    }
    if (int err = pwrite_all(fd_, data.data(), data.size(), length_)) return io_error("write", path_, err);
    length_ += data.size();
    return rocksdb::IOStatus::OK();
  }

  // Writes zeros from the allocated end up to the chunk boundary past `end`.
  rocksdb::IOStatus allocate_through(uint64_t end) {
    static const std::string zeros(kWalChunkBytes, '\0');
    uint64_t target = (end + kWalChunkBytes - 1) / kWalChunkBytes * kWalChunkBytes;
    while (allocated_ < target) {
      uint64_t n = std::min<uint64_t>(target - allocated_, zeros.size());
      if (int err = pwrite_all(fd_, zeros.data(), n, allocated_)) return io_error("write zeros into", path_, err);
      allocated_ += n;
    }
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus close_file() {
    rocksdb::IOStatus status;
    // The zeros past the log are cut off, so that a closed WAL is as long
    // as its records (RocksDB reads closed WALs by their size).
    if (allocated_ > length_ && ::ftruncate(fd_, static_cast<off_t>(length_)) != 0) {
      status = io_error("truncate", path_, errno);
    }
    if (::close(fd_) != 0 && status.ok()) status = io_error("close", path_, errno);
    fd_ = -1;
    return status;
  }

  std::string path_;
  int fd_;
  uint64_t length_ = 0;     // bytes of log written
  uint64_t allocated_ = 0;  // bytes the file has (log, then zeros)
};

class PreallocatedWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit PreallocatedWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base) : FileSystemWrapper(base) {}

  static const char* kClassName() { return "CorralPreallocatedWalFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (!is_wal_file_name(path) || options.use_direct_writes || options.use_mmap_writes) {
      return target()->NewWritableFile(path, options, result, dbg);
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("open", path, errno);
    *result = std::make_unique<PreallocatedWalFile>(path, fd, options);
    return rocksdb::IOStatus::OK();
  }
};

}  // namespace

bool is_wal_file_name(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kSuffix = ".log";
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return false;
  for (char c : name.substr(0, name.size() - kSuffix.size())) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::shared_ptr<rocksdb::FileSystem> make_preallocated_wal_fs(std::shared_ptr<rocksdb::FileSystem> base) {
  return std::make_shared<PreallocatedWalFileSystem>(base);
}

}  // namespace corral::storage
