#include "agent/source/stream_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>
#include <tuple>

#include "coordinator/base/check.h"

namespace corral::agent::source {
namespace {

using Key = std::pair<uint64_t, uint64_t>;

Key key_of(const Candidate& c) { return {c.device, c.inode}; }
Key key_of(const FileIdentity& i) { return {i.device, i.inode}; }

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StreamFiles::~StreamFiles() {
  for (TrackedFile& f : files_) {
    if (f.fd >= 0) ::close(f.fd);
  }
  for (PendingFile& p : pending_) ::close(p.fd);
}

void StreamFiles::update(std::vector<Candidate> candidates, Clock::time_point now) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.mtime_ns, a.path) < std::tie(b.mtime_ns, b.path);
  });
  // Files that were empty before come first: they were seen first.
  promote_pending(now);
  for (PendingFile& p : pending_) p.matched = false;
  std::vector<bool> seen(files_.size(), false);
  std::set<Key> keys;
  std::vector<const Candidate*> fresh;
  for (const Candidate& c : candidates) {
    if (!keys.insert(key_of(c)).second) continue;  // a second path (hard link) to one file
    auto pending = std::find_if(pending_.begin(), pending_.end(), [&](const PendingFile& p) {
      return Key{p.device, p.inode} == key_of(c);
    });
    if (pending != pending_.end()) {
      pending->matched = true;
      continue;
    }
    auto it = std::find_if(files_.begin(), files_.end(), [&](const TrackedFile& f) {
      return !f.truncated && key_of(f.identity) == key_of(c);
    });
    if (it != files_.end()) {
      // check() may add a file: keep a reference (a deque's stay valid), not
      // the iterator.
      TrackedFile& file = *it;
      file.path = c.path;
      // Files added by this scan (at the end) are not in `seen`: they are new.
      const auto index = static_cast<size_t>(it - files_.begin());
      if (index < seen.size()) seen[index] = true;
      check(file, now);
      continue;  // a truncated file's new content was added by check()
    }
    if (forgotten_.count(key_of(c)) > 0 && still_forgotten(c)) continue;
    fresh.push_back(&c);
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i]) continue;
    files_[i].path.clear();
    check(files_[i], now);
  }
  // New files last: content that a known inode got (after a truncate) is
  // older than any file created since, so it comes first in the stream.
  for (const Candidate* c : fresh) track(*c, now);
  std::erase_if(forgotten_, [&](const auto& entry) { return keys.count(entry.first) == 0; });
  enforce_bounds(now);
}

void StreamFiles::check(TrackedFile& file, Clock::time_point now) {
  if (file.truncated) return;
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return;  // cannot happen on an open fd; next check retries
  const auto size = static_cast<uint64_t>(st.st_size);
  Result<bool> same = matches(file.identity, file.fd);
  if (size < file.size || (same.ok() && !*same)) {
    mark_truncated(file, now);
    return;
  }
  if (size > file.size) {
    file.size = size;
    file.last_growth = now;
  }
}

// The inode's new content is a file of its own, read on through the fd
// already held: it may have been renamed away (matched by no glob) before
// any scan saw it, and then no scan would find it again (copytruncate, then
// a rename rotation, between two scans).
void StreamFiles::mark_truncated(TrackedFile& file, Clock::time_point now) {
  const int fd = file.fd;
  const std::string path = file.path;
  file.fd = -1;
  file.truncated = true;
  Result<FileIdentity> identity = identify(fd);
  if (identity.ok()) {
    add_identified(fd, *identity, path, now);
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size == 0 && pending_.size() < kMaxPendingFilesPerStream) {
    pending_.push_back(PendingFile{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), fd,
                                   !path.empty(), now});
    return;
  }
  ::close(fd);
}

uint64_t StreamFiles::refresh(size_t index, Clock::time_point now) {
  CORRAL_CHECK(index < files_.size());
  check(files_[index], now);
  return files_[index].size;
}

void StreamFiles::track(const Candidate& candidate, Clock::time_point now) {
  const int fd = ::open(candidate.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // gone or unreadable now: the next scan tries again
  struct stat st {};
  // Replaced between the glob and the open: the fd's file may be known.
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      known(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino))) {
    ::close(fd);
    return;
  }
  Result<FileIdentity> identity = identify(fd);
  if (identity.ok()) {
    const int64_t mtime_ns =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    const auto age = std::chrono::nanoseconds(std::max<int64_t>(0, wall_now_ns() - mtime_ns));
    add_identified(fd, *identity, candidate.path,
                   age >= options_.finish_grace ? now - options_.finish_grace : now);
  } else if (st.st_size == 0 && pending_.size() < kMaxPendingFilesPerStream) {
    pending_.push_back(PendingFile{static_cast<uint64_t>(st.st_dev),
                                   static_cast<uint64_t>(st.st_ino), fd, true, now});
  } else {
    ::close(fd);  // an I/O error, or too many empty files: the next scan tries again
  }
}

void StreamFiles::add_identified(int fd, const FileIdentity& identity, const std::string& path,
                                 Clock::time_point last_growth) {
  struct stat st {};
  TrackedFile f;
  f.identity = identity;
  f.id = unique_id(identity);
  f.path = path;
  f.fd = fd;
  f.size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : identity.fingerprint_bytes;
  f.last_growth = last_growth;
  files_.push_back(std::move(f));
}

void StreamFiles::promote_pending(Clock::time_point now) {
  std::vector<PendingFile> still;
  for (PendingFile& p : pending_) {
    Result<FileIdentity> identity = identify(p.fd);
    if (identity.ok()) {
      // Its path is learned at this scan's match, if a glob still matches it.
      add_identified(p.fd, *identity, "", now);
    } else if (!p.matched && now - p.since >= options_.finished_retention) {
      ::close(p.fd);
    } else {
      still.push_back(p);
    }
  }
  pending_ = std::move(still);
}

bool StreamFiles::known(uint64_t device, uint64_t inode) const {
  const Key key{device, inode};
  return forgotten_.count(key) > 0 ||
         std::any_of(pending_.begin(), pending_.end(),
                     [&](const PendingFile& p) { return Key{p.device, p.inode} == key; }) ||
         std::any_of(files_.begin(), files_.end(), [&](const TrackedFile& f) {
           return !f.truncated && key_of(f.identity) == key;
         });
}

bool StreamFiles::still_forgotten(const Candidate& candidate) {
  auto it = forgotten_.find(key_of(candidate));
  const int fd = ::open(candidate.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;  // cannot tell now: keep skipping it
  Result<bool> same = matches(it->second, fd);
  ::close(fd);
  if (same.ok() && !*same) {
    forgotten_.erase(it);  // the inode now holds another file
    return false;
  }
  return true;
}

void StreamFiles::forget_front() {
  CORRAL_CHECK(!files_.empty());
  TrackedFile& f = files_.front();
  if (f.fd >= 0) ::close(f.fd);
  if (!f.path.empty() && !f.truncated) {
    if (forgotten_.size() >= kMaxForgottenFilesPerStream) forgotten_.erase(forgotten_.begin());
    forgotten_[key_of(f.identity)] = f.identity;
  }
  files_.pop_front();
}

void StreamFiles::enforce_bounds(Clock::time_point now) {
  while (files_.size() > options_.max_retained_files) forget_front();
  // Only files no glob matches (deleted, renamed away) pin disk space we
  // alone keep alive; files still in place are bounded by the count above.
  while (files_.size() > 1 && files_.front().path.empty() &&
         now - files_.front().last_growth >= options_.finished_retention) {
    forget_front();
  }
}

void StreamFiles::commit(const std::string& committed_id) {
  if (committed_id.empty()) return;
  const int index = find(committed_id);
  for (int i = 0; i < index; ++i) forget_front();
}

int StreamFiles::find(const std::string& id) const {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].id == id) return static_cast<int>(i);
  }
  std::optional<FileIdentity> wanted = FileIdentity::parse(id);
  if (!wanted) return -1;
  for (size_t i = 0; i < files_.size(); ++i) {
    const TrackedFile& f = files_[i];
    if (f.truncated || key_of(f.identity) != key_of(*wanted)) continue;
    Result<bool> same = matches(*wanted, f.fd);
    if (same.ok() && *same) return static_cast<int>(i);
  }
  return -1;
}

bool StreamFiles::finished(size_t index, Clock::time_point now) const {
  CORRAL_CHECK(index < files_.size());
  const TrackedFile& f = files_[index];
  if (f.truncated) return true;
  if (index + 1 >= files_.size()) return false;
  return now - f.last_growth >= options_.finish_grace;
}

size_t StreamFiles::open_files() const {
  return pending_.size() + static_cast<size_t>(std::count_if(
                               files_.begin(), files_.end(),
                               [](const TrackedFile& f) { return f.fd >= 0; }));
}

uint64_t StreamFiles::retained_bytes() const {
  uint64_t total = 0;
  for (const TrackedFile& f : files_) {
    if (!f.truncated) total += f.size;
  }
  return total;
}

std::string StreamFiles::unique_id(const FileIdentity& identity) {
  std::string id = identity.id();
  const auto taken = [&](const std::string& candidate) {
    return std::any_of(files_.begin(), files_.end(),
                       [&](const TrackedFile& f) { return f.id == candidate; });
  };
  while (taken(id)) id = identity.id() + "." + std::to_string(++id_suffix_);
  return id;
}

}  // namespace corral::agent::source
