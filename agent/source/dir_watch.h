// inotify on the directories the tailer's globs name: a hint that a rescan is
// worth doing now rather than at the next poll. Never the only source of
// truth (events overflow, directories appear late, some file systems send
// none): the tailer rescans every poll interval regardless.
//
// Watched: IN_CREATE, IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE, IN_ATTRIB (link
// count drops), IN_DELETE_SELF, IN_MOVE_SELF. Not IN_MODIFY: growth is seen
// by fstat when a collector reads, and a busy log would otherwise wake the
// loop for every write.
#pragma once

#include <memory>
#include <set>
#include <string>

namespace corral::agent::source {

class DirWatch {
 public:
  // nullptr if inotify is not available (the tailer then only polls).
  static std::unique_ptr<DirWatch> create();
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  // Adds a watch on `dir` unless it has one; false if it cannot (missing
  // directory, watch limit): the caller tries again at its next rescan.
  bool watch(const std::string& dir);
  // Reads every pending event without blocking; true if there was any.
  bool drain();
  int fd() const { return fd_; }

 private:
  explicit DirWatch(int fd) : fd_(fd) {}

  int fd_;
  std::set<std::string> watched_;
};

}  // namespace corral::agent::source
