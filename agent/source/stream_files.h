// One stream's files: the ordered list of the files its globs have matched,
// each held open, and the rules for when a reader may move past one and when
// the source may close it. The tailer (tailer.h) owns one per stream.
//
// Order. Files are kept in the order first seen; files found by one scan are
// ordered by modification time, then path (so at start the rotated
// access.log.2, access.log.1 come before access.log). A file keeps its place
// when renamed: a renamed file that still matches a glob is recognised by
// identity (file_identity.h) and is not read twice.
//
// Rotation by rename or deletion: the file stays open and is read to its end
// through the fd. Copytruncate (the file shrinks, or its first bytes change):
// the old entry is marked truncated (its unread bytes are gone; readers move
// on), and the new content is a new file at the end of the list, with a new
// id, read from 0. With copytruncate the globs should not match the copies
// (e.g. "access.log", not "access.log*"): a copy is a new inode and would be
// read again; we do not guess copies from contents (a shared header line
// would make a guess drop real files).
//
// Finished: a reader at the end of file i may move to file i+1 only when
// file i is truncated, or when a newer file exists (i is not the last) and
// file i has not grown for finish_grace. Being renamed or deleted is not
// enough: a writer keeps appending to its open fd until it reopens (logrotate
// renames, then signals), and moving on too early loses those lines. A file
// seen for the first time whose mtime is older than finish_grace counts as
// idle since then.
//
// Closing (forgetting) a file, always from the front of the list so that the
// order stays whole:
//  - when a collector's committed position names a later file (commit());
//  - when the list is longer than max_retained_files;
//  - when no glob matches it any more (deleted or renamed away), it is not
//    the last, and it has been idle for finished_retention: a deleted file's
//    disk space is never held forever by a collector that never comes. Files
//    still in place cost only an fd and are bounded by max_retained_files.
// A forgotten file still on disk is remembered by identity so that rescans
// do not pick it up again (kMaxForgottenFilesPerStream, oldest dropped).
// Empty files have no identity (file_identity.h): they are held open as
// pending (at most kMaxPendingFilesPerStream) and join the list, at its end,
// when their first byte shows, wherever they have been renamed to by then. So
// a file created empty, written and rotated away between two scans is not
// lost. A pending file no glob matches any more is dropped after
// finished_retention.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/source/file_identity.h"

namespace corral::agent::source {

inline constexpr size_t kMaxForgottenFilesPerStream = 4096;
inline constexpr size_t kMaxPendingFilesPerStream = 64;

struct StreamFilesOptions {
  std::chrono::milliseconds finish_grace{5000};
  std::chrono::milliseconds finished_retention{std::chrono::hours(1)};
  size_t max_retained_files = 1024;
};

struct TrackedFile {
  using Clock = std::chrono::steady_clock;
  FileIdentity identity;
  std::string id;             // identity.id(), or with a ".<n>" suffix if that was taken
  std::string path;           // where a glob last matched it; empty when none does
  int fd = -1;                // open until forgotten; -1 once truncated
  uint64_t size = 0;          // the largest size seen
  Clock::time_point last_growth;
  bool truncated = false;     // its content was replaced: nothing more to read here
};

// A file a glob matches now.
struct Candidate {
  std::string path;
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;
};

// An empty file held open until its first byte gives it an identity.
struct PendingFile {
  uint64_t device = 0;
  uint64_t inode = 0;
  int fd = -1;
  bool matched = true;  // a glob matched it at the last scan
  TrackedFile::Clock::time_point since;
};

class StreamFiles {
 public:
  using Clock = TrackedFile::Clock;

  explicit StreamFiles(StreamFilesOptions options) : options_(options) {}
  ~StreamFiles();
  StreamFiles(const StreamFiles&) = delete;
  StreamFiles& operator=(const StreamFiles&) = delete;

  // Brings the list up to date with what the globs match now.
  void update(std::vector<Candidate> candidates, Clock::time_point now);

  const std::deque<TrackedFile>& files() const { return files_; }
  // The index of the file `id` names (exactly, or an older id of the same
  // file: see file_identity.h), or -1.
  int find(const std::string& id) const;
  // fstat's the file: growth, or truncation (marks it). Its size after.
  uint64_t refresh(size_t index, Clock::time_point now);
  bool finished(size_t index, Clock::time_point now) const;
  // Forgets the files before the one `committed_id` names.
  void commit(const std::string& committed_id);
  size_t open_files() const;
  uint64_t retained_bytes() const;

 private:
  void check(TrackedFile& file, Clock::time_point now);
  void mark_truncated(TrackedFile& file, Clock::time_point now);
  void track(const Candidate& candidate, Clock::time_point now);
  void add_identified(int fd, const FileIdentity& identity, const std::string& path,
                      Clock::time_point last_growth);
  void promote_pending(Clock::time_point now);
  bool known(uint64_t device, uint64_t inode) const;
  bool still_forgotten(const Candidate& candidate);
  void forget_front();
  void enforce_bounds(Clock::time_point now);
  std::string unique_id(const FileIdentity& identity);

  StreamFilesOptions options_;
  std::deque<TrackedFile> files_;
  std::vector<PendingFile> pending_;  // in the order first seen
  std::map<std::pair<uint64_t, uint64_t>, FileIdentity> forgotten_;  // by (device, inode)
  uint64_t id_suffix_ = 0;
};

}  // namespace corral::agent::source
