#include "agent/sink/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "agent/sink/fs_util.h"

namespace corral::agent::sink {
namespace {

constexpr mode_t kFileMode = 0644;
constexpr int kOpenFlags = O_RDWR | O_APPEND | O_CLOEXEC;  // read: the partial-tail check

std::string dir_of(const std::string& path) { return path.substr(0, path.find_last_of('/')); }

SinkError sticky(const SinkError& e) {
  return make_sink_error(e.code, e.message + " (earlier failure: close the task and resume it from its checkpoint)");
}

}  // namespace

FileSink::FileSink(FileSinkOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<FileSink>> FileSink::open(FileSinkOptions options) {
  if (options.dir.empty()) return make_sink_error(SinkErrorCode::kBadSpec, "file sink: empty directory");
  if (options.max_open_files == 0) return make_sink_error(SinkErrorCode::kBadSpec, "file sink: max_open_files 0");
  while (options.dir.size() > 1 && options.dir.back() == '/') options.dir.pop_back();
  if (auto s = make_dirs(options.dir); !s.ok()) return s.error();
  if (::access(options.dir.c_str(), W_OK | X_OK) != 0) return errno_error("sink directory " + options.dir, errno);
  return std::unique_ptr<FileSink>(new FileSink(std::move(options)));
}

FileSink::~FileSink() {
  // Best effort: a collector that wants to see sync errors closes its tasks
  // first; here nobody is left to tell.
  for (auto& [task, state] : tasks_) (void)sync_and_close(task, state);
}

std::string FileSink::describe() const { return "file:" + options_.dir; }

std::string FileSink::path_of(std::string_view task) const {
  auto name = parse_task(task);
  if (!name.ok()) return "";
  return options_.dir + "/" + name->app + "/" + name->topic + "/" + name->machine_ip + ".log";
}

size_t FileSink::open_files() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

Status FileSink::fail(TaskState& state, SinkError error) {
  state.failed = error;
  return error;
}

Result<int> FileSink::open_file(const std::string& path) {
  int fd = ::open(path.c_str(), kOpenFlags);
  if (fd >= 0) {
    if (auto s = trim_partial_tail(fd, path); !s.ok()) {
      ::close(fd);
      return s.error();
    }
    return fd;
  }
  if (errno != ENOENT) return errno_error("open " + path, errno);
  std::string dir = dir_of(path);
  if (auto s = make_dirs(dir); !s.ok()) return s.error();
  fd = ::open(path.c_str(), kOpenFlags | O_CREAT | O_EXCL, kFileMode);
  if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), kOpenFlags);  // created by someone else meanwhile
  if (fd < 0) return errno_error("create " + path, errno);
  if (auto s = sync_dir(dir); !s.ok()) {
    // Removed so that the next attempt creates it again and syncs again:
    // an existing file is never re-synced into its directory.
    ::close(fd);
    ::unlink(path.c_str());
    return s.error();
  }
  return fd;
}

void FileSink::evict_one() {
  std::string victim = lru_.back();
  auto it = tasks_.find(victim);
  if (auto s = sync_and_close(victim, it->second); !s.ok()) {
    it->second.failed = s.error();
    return;
  }
  if (!it->second.failed) tasks_.erase(it);
}

Status FileSink::sync_and_close(const std::string& task, TaskState& state) {
  if (state.fd < 0) return Status::ok_status();
  Status result;
  if (state.dirty) result = sync_file(state.fd, path_of(task));
  ::close(state.fd);
  state.fd = -1;
  state.dirty = false;
  lru_.erase(state.lru);
  return result;
}

Status FileSink::ensure_open(const std::string& task, TaskState& state) {
  if (state.fd >= 0) {
    lru_.splice(lru_.begin(), lru_, state.lru);
    return Status::ok_status();
  }
  while (lru_.size() >= options_.max_open_files) evict_one();
  auto fd = open_file(path_of(task));
  if (!fd.ok()) return fd.error();
  state.fd = *fd;
  lru_.push_front(task);
  state.lru = lru_.begin();
  return Status::ok_status();
}

Status FileSink::append(std::string_view task, std::string_view lines, Clock::time_point) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  if (auto s = check_whole_lines(task, lines); !s.ok()) return s;
  std::lock_guard lock(mu_);
  auto it = tasks_.try_emplace(std::string(task)).first;
  TaskState& state = it->second;
  if (state.failed) return sticky(*state.failed);
  if (lines.empty()) return Status::ok_status();
  if (auto s = ensure_open(it->first, state); !s.ok()) return s;
  std::string path = path_of(task);
  auto before = file_size(state.fd, path);
  if (!before.ok()) return fail(state, before.error());
  auto written = write_all(state.fd, lines, path);
  if (written.ok()) {
    state.dirty = true;
    return written;
  }
  if (::ftruncate(state.fd, *before) != 0) {
    return fail(state, make_sink_error(written.error().code,
                                       written.error().message + "; cutting the partial batch back failed too"));
  }
  return written;
}

Status FileSink::make_durable(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return Status::ok_status();
  TaskState& state = it->second;
  if (state.failed) return sticky(*state.failed);
  if (!state.dirty) return Status::ok_status();
  if (auto s = sync_file(state.fd, path_of(task)); !s.ok()) return fail(state, s.error());
  state.dirty = false;
  return Status::ok_status();
}

Status FileSink::close(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return Status::ok_status();
  std::optional<SinkError> failed = it->second.failed;
  Status s = sync_and_close(it->first, it->second);
  tasks_.erase(it);
  if (failed) return *failed;
  return s;
}

}  // namespace corral::agent::sink
