// Client::snapshot_save: a member's snapshot streamed into a file, with
// the digest trailer, fsync and rename (schema/snapshot_file.h).
#include "client/client_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

#include "client/snapshot_digest.h"

namespace corral::client {

namespace {

using Clock = std::chrono::steady_clock;

// Snapshot writes are flushed to disk in pieces no larger than this.
constexpr size_t kSnapshotWriteBytes = 1u << 20;

}  // namespace

Result<int64_t> Client::snapshot_save(const std::string& path, CallOptions options) {
  if (impl_->on_io_thread()) {
    return make_error(ErrorCode::kBadRequest, "blocking call from a client callback");
  }
  const std::string part = path + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kStorage, "cannot create " + part + ": " + std::strerror(errno));
  }
  // Written by the I/O thread, read here after the future is ready.
  struct Sink {
    int fd;
    int64_t written = 0;
    std::optional<Error> error;
    SnapshotDigest digest;  // of the image: the file's trailer (schema/snapshot_file.h)

    void write_all(std::string_view bytes) {
      size_t off = 0;
      while (off < bytes.size() && !error) {
        const size_t n = std::min(kSnapshotWriteBytes, bytes.size() - off);
        const ssize_t w = ::write(fd, bytes.data() + off, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          error = make_error(ErrorCode::kStorage, std::string("write: ") + std::strerror(errno));
          return;
        }
        off += static_cast<size_t>(w);
      }
      written += static_cast<int64_t>(bytes.size());
    }
  };
  auto sink = std::make_shared<Sink>();
  sink->fd = fd;
  const auto timeout = options.timeout.count() > 0 ? options.timeout : impl_->options.request_timeout;
  const auto deadline = Clock::now() + timeout;
  if (Status s = impl_->acquire_slot(deadline); !s.ok()) {
    ::close(fd);
    ::unlink(part.c_str());
    return s.error();
  }
  auto promise = std::make_shared<std::promise<Result<ResponseBody>>>();
  auto future = promise->get_future();
  auto p = std::make_unique<Impl::Pending>();
  p->body = SnapshotRequest{};
  p->cls = RequestClass::kRead;
  p->deadline = deadline;
  p->on_chunk = [sink](const SnapshotChunk& chunk) {
    if (sink->error) return;
    sink->digest.update(chunk.blob);
    sink->write_all(chunk.blob);
  };
  p->done = [promise](Result<ResponseBody> r) { promise->set_value(std::move(r)); };
  impl_->enqueue(std::move(p));
  Result<ResponseBody> r = future.get();
  std::optional<Error> error;
  if (r.ok() && !sink->error) sink->write_all(sink->digest.trailer());
  if (!r.ok()) {
    error = r.error();
  } else if (sink->error) {
    error = sink->error;
  } else if (::fsync(fd) != 0) {
    error = make_error(ErrorCode::kStorage, std::string("fsync: ") + std::strerror(errno));
  }
  ::close(fd);
  if (!error && ::rename(part.c_str(), path.c_str()) != 0) {
    error = make_error(ErrorCode::kStorage, "rename to " + path + ": " + std::strerror(errno));
  }
  if (error) {
    ::unlink(part.c_str());
    return *error;
  }
  return sink->written;
}

}  // namespace corral::client
