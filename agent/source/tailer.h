// The source role's files: for each stream (a name and a set of globs), the
// files it has seen (stream_files.h), and reads of whole lines at a position
// (the rules of FetchResponse in schema/agent.capnp). No threads: the caller's
// loop polls fd() and calls poll_changes() (fetch_server.h does both).
//
// Globs: glob(3) patterns; only the last path element may hold wildcards for
// inotify to help (its directory is watched); any pattern works by polling.
// Only regular files (symlinks followed) are tailed.
//
// Memory per stream: the file list (<= max_retained_files entries) and the
// forgotten set (<= kMaxForgottenFilesPerStream); a read holds at most
// max(maxBytes, max_line_bytes) bytes and nothing is cached between reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/fetch/fetch_types.h"
#include "agent/source/dir_watch.h"
#include "agent/source/stream_files.h"

namespace corral::agent::source {

inline constexpr size_t kMaxRetainedFilesPerStream = 1024;
inline constexpr size_t kMaxGlobsPerStream = 64;
inline constexpr auto kDefaultPollInterval = std::chrono::milliseconds(250);

struct StreamConfig {
  std::string name;                // "<app>/<topic>"
  std::vector<std::string> globs;  // 1..kMaxGlobsPerStream glob(3) patterns
};

struct TailerOptions {
  std::chrono::milliseconds poll_interval = kDefaultPollInterval;  // rescan at least this often
  StreamFilesOptions files;        // finish_grace, finished_retention, max_retained_files
  size_t max_line_bytes = fetch::kMaxLineBytes;  // 1..kMaxLineBytes; smaller only for tests
  bool use_inotify = true;
};

// One retained file, for people and tests.
struct FileInfo {
  std::string id;
  std::string path;   // empty when no glob matches it now (renamed away, deleted)
  uint64_t size = 0;
  bool open = false;
  bool truncated = false;
};

class Tailer {
 public:
  // kBadRequest for bad configuration (duplicate or empty names, no globs,
  // bounds out of range). Scans once before returning.
  static fetch::Result<std::unique_ptr<Tailer>> create(std::vector<StreamConfig> streams,
                                                       TailerOptions options);
  Tailer(const Tailer&) = delete;
  Tailer& operator=(const Tailer&) = delete;

  // Readable when something changed in a watched directory; -1 without inotify.
  int fd() const { return watch_ ? watch_->fd() : -1; }
  // How long the caller may sleep before poll_changes() is due (0: now).
  std::chrono::milliseconds poll_timeout() const;
  // Drains fd(); rescans if it had events or the poll interval passed.
  void poll_changes();
  // Rescans every stream now.
  void rescan();

  // Serves one fetch (any error is in the reply's `error`). Forgets the files
  // before request.committed_file first.
  fetch::FetchReply read(const fetch::FetchRequest& request);

  std::vector<fetch::StreamInfo> streams() const;
  // The stream's files, oldest first; empty for an unknown stream.
  std::vector<FileInfo> files(std::string_view stream) const;
  // File descriptors held open across all streams.
  size_t open_files() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Stream {
    StreamConfig config;
    std::unique_ptr<StreamFiles> files;
  };

  explicit Tailer(TailerOptions options) : options_(std::move(options)) {}
  void scan(Stream& stream, Clock::time_point now);
  fetch::FetchReply read_from(Stream& stream, const fetch::FetchRequest& request, size_t index,
                              uint64_t offset);
  uint64_t end_bytes(const StreamFiles& files, size_t index, uint64_t offset) const;

  TailerOptions options_;
  std::map<std::string, Stream, std::less<>> streams_;
  std::unique_ptr<DirWatch> watch_;
  Clock::time_point next_scan_{};
};

}  // namespace corral::agent::source
