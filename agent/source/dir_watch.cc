#include "agent/source/dir_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace corral::agent::source {
namespace {

constexpr uint32_t kWatchMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                                IN_DELETE_SELF | IN_MOVE_SELF;
// One read's buffer; a full queue is drained by several reads.
constexpr size_t kEventBufferBytes = 16u << 10;
// Reads per drain(): bounds the time spent when events keep coming.
constexpr int kMaxReadsPerDrain = 64;

}  // namespace

std::unique_ptr<DirWatch> DirWatch::create() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::unique_ptr<DirWatch>(new DirWatch(fd));
}

DirWatch::~DirWatch() { ::close(fd_); }

bool DirWatch::watch(const std::string& dir) {
  if (watched_.count(dir) > 0) return true;
  if (::inotify_add_watch(fd_, dir.c_str(), kWatchMask) < 0) return false;
  watched_.insert(dir);
  return true;
}

bool DirWatch::drain() {
  alignas(struct inotify_event) char buffer[kEventBufferBytes];
  bool any = false;
  for (int i = 0; i < kMaxReadsPerDrain; ++i) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    any = true;
    // A deleted or moved directory loses its watch: forget it so that the
    // next rescan watches whatever directory has that name then.
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + at);
      if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) watched_.clear();
      at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
  return any;
}

}  // namespace corral::agent::source
