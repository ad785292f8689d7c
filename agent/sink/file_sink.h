// The no-loss sink: one file per task, <dir>/<app>/<topic>/<machine-ip>.log.
//
// - Lines are appended exactly as given (O_APPEND). A failed append is cut
//   back (ftruncate) to the size before it, so a retry cannot leave half a
//   batch in front of the whole one.
// - Directories and the file are created on the first append; each creation
//   is followed by an fsync of the parent directory, so the file's existence
//   is durable before any data in it is reported durable.
// - make_durable = fdatasync of the task's file.
// - The first time a task's existing file is opened, a partial last line (a
//   crash in the middle of a write) is cut off: it lies past the last
//   checkpoint and is fetched again whole.
// - At most `max_open_files` files are open; the least recently used is
//   synced and closed to open another. A sync that fails at that point is
//   kept and answered by the task's next call.
// - After a failed fdatasync (or a failed cut-back) the task's file is in an
//   unknown state (Linux may drop the dirty pages): every call for the task
//   answers that error until close(task); the collector resumes the task from
//   its last checkpoint.
// - The deadline of append is not used: a write to a local file cannot be
//   abandoned halfway. A slow disk blocks append, which slows the fetching.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/sink/sink.h"
#include "agent/sink/task.h"

namespace corral::agent::sink {

inline constexpr size_t kDefaultMaxOpenFiles = 256;

struct FileSinkOptions {
  std::string dir;                              // created if missing
  size_t max_open_files = kDefaultMaxOpenFiles;  // >= 1
};

class FileSink final : public Sink {
 public:
  // Creates `dir` (mkdir -p) and checks that it is a writable directory:
  // kBadPath (a file is in the way), kPermission, kBadSpec (empty dir,
  // max_open_files 0).
  static Result<std::unique_ptr<FileSink>> open(FileSinkOptions options);
  ~FileSink() override;

  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  Status append(std::string_view task, std::string_view lines, Clock::time_point deadline) override;
  Status make_durable(std::string_view task) override;
  Status close(std::string_view task) override;
  std::string describe() const override;

  // "<dir>/<app>/<topic>/<machine-ip>.log" for a task ("" if malformed).
  std::string path_of(std::string_view task) const;
  // Files currently open (for tests and metrics).
  size_t open_files() const;

 private:
  struct TaskState {
    int fd = -1;
    bool dirty = false;                  // appended since the last sync
    std::optional<SinkError> failed;     // sticky until close(task)
    std::list<std::string>::iterator lru;  // valid while fd >= 0
  };
  using Tasks = std::map<std::string, TaskState, std::less<>>;

  explicit FileSink(FileSinkOptions options);
  Status ensure_open(const std::string& task, TaskState& state);
  Result<int> open_file(const std::string& path);
  void evict_one();
  Status sync_and_close(const std::string& task, TaskState& state);
  Status fail(TaskState& state, SinkError error);

  const FileSinkOptions options_;
  mutable std::mutex mu_;
  Tasks tasks_;
  std::list<std::string> lru_;  // open tasks, most recently used first
};

}  // namespace corral::agent::sink
