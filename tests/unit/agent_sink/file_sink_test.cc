#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agent/sink/file_sink.h"
#include "tests/unit/agent_sink/temp_dir.h"

namespace corral::agent::sink {
namespace {

using testing::read_all;
using testing::TempDir;
using testing::write_raw;

const Clock::time_point kNoDeadline = Clock::time_point::max();

std::unique_ptr<FileSink> open_sink(const std::string& dir, size_t max_open = kDefaultMaxOpenFiles) {
  auto sink = FileSink::open(FileSinkOptions{dir, max_open});
  REQUIRE(sink.ok());
  return std::move(sink).value();
}

size_t open_fd_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

TEST_CASE("file sink writes exactly the given bytes under <dir>/<app>/<topic>/<ip>.log", "[agent_sink][file]") {
  TempDir tmp;
  std::string root = tmp.path() + "/not/yet/there";
  auto sink = open_sink(root);
  std::string first = "GET / 200\n";
  std::string second = std::string("bin\x01\x02\xff\tline\r\n", 14) + "\n";
  REQUIRE(sink->append("web/access/10.0.0.11", first, kNoDeadline).ok());
  REQUIRE(sink->append("web/access/10.0.0.11", second, kNoDeadline).ok());
  REQUIRE(sink->append("web/error/10.0.0.11", "E\n", kNoDeadline).ok());
  REQUIRE(sink->make_durable("web/access/10.0.0.11").ok());
  REQUIRE(sink->make_durable("web/error/10.0.0.11").ok());
  CHECK(sink->path_of("web/access/10.0.0.11") == root + "/web/access/10.0.0.11.log");
  CHECK(read_all(root + "/web/access/10.0.0.11.log") == first + second);
  CHECK(read_all(root + "/web/error/10.0.0.11.log") == "E\n");
  CHECK(sink->describe() == "file:" + root);
}

TEST_CASE("file sink appends to the existing file after a restart and after close", "[agent_sink][file]") {
  TempDir tmp;
  {
    auto sink = open_sink(tmp.path());
    REQUIRE(sink->append("a/t/1.1.1.1", "one\n", kNoDeadline).ok());
    REQUIRE(sink->make_durable("a/t/1.1.1.1").ok());
  }
  auto sink = open_sink(tmp.path());
  REQUIRE(sink->append("a/t/1.1.1.1", "two\n", kNoDeadline).ok());
  REQUIRE(sink->close("a/t/1.1.1.1").ok());
  REQUIRE(sink->append("a/t/1.1.1.1", "three\n", kNoDeadline).ok());
  REQUIRE(sink->close("a/t/1.1.1.1").ok());
  CHECK(read_all(tmp.path() + "/a/t/1.1.1.1.log") == "one\ntwo\nthree\n");
  CHECK(sink->close("never/seen/1.1.1.1").ok());
}

TEST_CASE("file sink cuts a partial last line left by a crash before appending", "[agent_sink][file]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() + "/a/t");
  write_raw(tmp.path() + "/a/t/1.1.1.1.log", "whole\nhalf a li");
  write_raw(tmp.path() + "/a/t/2.2.2.2.log", "no newline at all");
  auto sink = open_sink(tmp.path());
  REQUIRE(sink->append("a/t/1.1.1.1", "half a line\n", kNoDeadline).ok());
  REQUIRE(sink->append("a/t/2.2.2.2", "x\n", kNoDeadline).ok());
  REQUIRE(sink->close("a/t/1.1.1.1").ok());
  REQUIRE(sink->close("a/t/2.2.2.2").ok());
  CHECK(read_all(tmp.path() + "/a/t/1.1.1.1.log") == "whole\nhalf a line\n");
  CHECK(read_all(tmp.path() + "/a/t/2.2.2.2.log") == "x\n");
}

TEST_CASE("file sink refuses bad tasks and partial lines and writes nothing", "[agent_sink][file]") {
  TempDir tmp;
  auto sink = open_sink(tmp.path() + "/s");
  auto traversal = sink->append("../../1.1.1.1", "x\n", kNoDeadline);
  REQUIRE_FALSE(traversal.ok());
  CHECK(traversal.error().code == SinkErrorCode::kBadInput);
  auto partial = sink->append("a/t/1.1.1.1", "no newline", kNoDeadline);
  REQUIRE_FALSE(partial.ok());
  CHECK(partial.error().code == SinkErrorCode::kBadInput);
  CHECK_FALSE(std::filesystem::exists(tmp.path() + "/s/a"));
  CHECK(std::filesystem::is_empty(tmp.path() + "/s"));
  CHECK(sink->make_durable("a/t/1.1.1.1").ok());
}

TEST_CASE("file sink: a sink directory that is a file is kBadPath", "[agent_sink][file]") {
  TempDir tmp;
  write_raw(tmp.path() + "/file", "x");
  auto sink = FileSink::open(FileSinkOptions{tmp.path() + "/file"});
  REQUIRE_FALSE(sink.ok());
  CHECK(sink.error().code == SinkErrorCode::kBadPath);
  auto below = FileSink::open(FileSinkOptions{tmp.path() + "/file/sub"});
  REQUIRE_FALSE(below.ok());
  CHECK(below.error().code == SinkErrorCode::kBadPath);
  CHECK(below.error().message.find(tmp.path() + "/file") != std::string::npos);
}

TEST_CASE("file sink: a directory it may not create is kPermission", "[agent_sink][file]") {
  // sysfs refuses mkdir even to root (EPERM, or EROFS when mounted read-only).
  auto sink = FileSink::open(FileSinkOptions{"/sys/corral-sink-test"});
  REQUIRE_FALSE(sink.ok());
  CHECK(sink.error().code == SinkErrorCode::kPermission);
}

TEST_CASE("file sink: a file where a task's directory must be fails that task only", "[agent_sink][file]") {
  TempDir tmp;
  auto sink = open_sink(tmp.path());
  write_raw(tmp.path() + "/web", "in the way");
  auto s = sink->append("web/access/1.1.1.1", "x\n", kNoDeadline);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == SinkErrorCode::kBadPath);
  CHECK(sink->append("api/access/1.1.1.1", "y\n", kNoDeadline).ok());
  CHECK(sink->make_durable("api/access/1.1.1.1").ok());
}

TEST_CASE("file sink: ENOSPC is kNoSpace and the task stays failed until close", "[agent_sink][file]") {
  // /dev/full answers every write with ENOSPC; the task's file is a symlink to it.
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() + "/a/t");
  std::filesystem::create_symlink("/dev/full", tmp.path() + "/a/t/1.1.1.1.log");
  auto sink = open_sink(tmp.path());
  auto s = sink->append("a/t/1.1.1.1", "x\n", kNoDeadline);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == SinkErrorCode::kNoSpace);
  // A device cannot be cut back, so the task's state is unknown: sticky.
  auto durable = sink->make_durable("a/t/1.1.1.1");
  REQUIRE_FALSE(durable.ok());
  CHECK(durable.error().code == SinkErrorCode::kNoSpace);
  auto again = sink->append("a/t/1.1.1.1", "y\n", kNoDeadline);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == SinkErrorCode::kNoSpace);
  CHECK_FALSE(sink->close("a/t/1.1.1.1").ok());
  CHECK(sink->make_durable("a/t/1.1.1.1").ok());  // forgotten: nothing appended since close
}

namespace {

// A 64 KiB tmpfs, unmounted at scope end; only root may mount.
class TinyTmpfs {
 public:
  explicit TinyTmpfs(const std::string& at) : at_(at) {
    std::filesystem::create_directories(at_);
    mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, "size=64k") == 0;
  }
  ~TinyTmpfs() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string at_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("file sink: a full filesystem is kNoSpace and the failed batch is cut back", "[agent_sink][file][root]") {
  TempDir tmp;
  TinyTmpfs fs(tmp.path() + "/mnt");
  if (!fs.mounted()) {
    WARN("cannot mount a tmpfs (not root?): the real-filesystem ENOSPC case is not run");
    return;
  }
  auto sink = open_sink(tmp.path() + "/mnt/sink");
  const std::string line = std::string(999, 'x') + "\n";
  const std::string batch = line + line + line;  // 3000 bytes: not a page multiple
  std::string path = sink->path_of("a/t/1.1.1.1");
  constexpr int kMoreThan64KiB = 100;
  Status s;
  int accepted = 0;
  for (; accepted < kMoreThan64KiB; ++accepted) {
    s = sink->append("a/t/1.1.1.1", batch, kNoDeadline);
    if (!s.ok()) break;
  }
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == SinkErrorCode::kNoSpace);
  CHECK(read_all(path).size() == static_cast<size_t>(accepted) * batch.size());
  // Cut back cleanly: the task may go on, and what it holds is durable.
  CHECK(sink->make_durable("a/t/1.1.1.1").ok());
  CHECK(sink->close("a/t/1.1.1.1").ok());
  sink.reset();
}

TEST_CASE("file sink keeps at most max_open_files open and reopens evicted tasks", "[agent_sink][file]") {
  TempDir tmp;
  constexpr size_t kMaxOpen = 4;
  constexpr int kTasks = 10;
  auto sink = open_sink(tmp.path(), kMaxOpen);
  size_t fds_before = open_fd_count();
  auto task = [](int i) { return "a/t/10.0.0." + std::to_string(i); };
  for (int i = 0; i < kTasks; ++i) REQUIRE(sink->append(task(i), "first\n", kNoDeadline).ok());
  CHECK(sink->open_files() == kMaxOpen);
  CHECK(open_fd_count() <= fds_before + kMaxOpen);
  for (int i = 0; i < kTasks; ++i) {
    REQUIRE(sink->append(task(i), "second\n", kNoDeadline).ok());
    REQUIRE(sink->make_durable(task(i)).ok());
  }
  CHECK(sink->open_files() == kMaxOpen);
  CHECK(open_fd_count() <= fds_before + kMaxOpen);
  for (int i = 0; i < kTasks; ++i) CHECK(read_all(sink->path_of(task(i))) == "first\nsecond\n");
  for (int i = 0; i < kTasks; ++i) REQUIRE(sink->close(task(i)).ok());
  CHECK(sink->open_files() == 0);
  CHECK(open_fd_count() == fds_before);
}

TEST_CASE("file sink serves several threads while evicting files under them", "[agent_sink][file]") {
  TempDir tmp;
  constexpr size_t kMaxOpen = 2;
  constexpr int kThreads = 4;
  constexpr int kBatches = 200;
  auto sink = open_sink(tmp.path(), kMaxOpen);
  auto task = [](int t) { return "a/t/10.0.1." + std::to_string(t); };
  auto line = [](int t, int i) { return std::to_string(t) + ":" + std::to_string(i) + "\n"; };
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBatches; ++i) {
        if (!sink->append(task(t), line(t, i), kNoDeadline).ok()) ++failures[t];
        if (i % 10 == 0 && !sink->make_durable(task(t)).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    CHECK(failures[t] == 0);
    REQUIRE(sink->close(task(t)).ok());
    std::string expected;
    for (int i = 0; i < kBatches; ++i) expected += line(t, i);
    CHECK(read_all(sink->path_of(task(t))) == expected);
  }
}

TEST_CASE("file sink refuses an empty directory or no open files", "[agent_sink][file]") {
  auto empty = FileSink::open(FileSinkOptions{""});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == SinkErrorCode::kBadSpec);
  TempDir tmp;
  auto none = FileSink::open(FileSinkOptions{tmp.path(), 0});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == SinkErrorCode::kBadSpec);
}

}  // namespace corral::agent::sink
