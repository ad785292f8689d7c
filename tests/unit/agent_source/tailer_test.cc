#include "agent/source/tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "tests/unit/agent_source/source_test_util.h"

using corral::agent::fetch::FetchErrorCode;
using corral::agent::fetch::FetchReply;
using corral::agent::fetch::FetchRequest;
using corral::agent::source::StreamConfig;
using corral::agent::source::Tailer;
using corral::agent::source::TailerOptions;
using corral::agent::source::testing::append;
using corral::agent::source::testing::numbered_lines;
using corral::agent::source::testing::open_fd_count;
using corral::agent::source::testing::TempDir;
using corral::agent::source::testing::truncate_and_write;
using corral::agent::source::testing::wait_until;

namespace {

constexpr auto kGrace = std::chrono::milliseconds(50);
const std::string kStream = "web/access";

TailerOptions test_options() {
  TailerOptions o;
  o.poll_interval = std::chrono::milliseconds(10);
  o.files.finish_grace = kGrace;
  return o;
}

std::unique_ptr<Tailer> make_tailer(const std::vector<std::string>& globs,
                                    TailerOptions options = test_options()) {
  auto t = Tailer::create({StreamConfig{kStream, globs}}, options);
  REQUIRE(t.ok());
  return std::move(t).value();
}

// A collector's view: its position, everything it has read, and (when
// `commit` is set) a checkpoint that follows its position at once.
struct Reader {
  explicit Reader(Tailer& t) : tailer(t) {}
  Tailer& tailer;
  bool commit = true;
  std::string file;
  uint64_t offset = 0;
  std::string got;
  uint64_t next_id = 1;
  FetchReply last;

  FetchReply step(uint32_t max_bytes = 4096) {
    FetchRequest r;
    r.id = next_id++;
    r.stream = kStream;
    r.file = file;
    r.offset = offset;
    if (commit) {
      r.committed_file = file;
      r.committed_offset = offset;
    }
    r.max_bytes = max_bytes;
    last = tailer.read(r);
    REQUIRE(last.error == FetchErrorCode::kOk);
    REQUIRE(last.id == r.id);
    // Data starts where asked, or at 0 of a later file.
    if (!file.empty() && last.file == file) CHECK(last.offset == offset);
    if (last.file != file) CHECK(last.offset == 0);
    CHECK(last.data.size() <= std::max<size_t>(max_bytes, corral::agent::fetch::kMaxLineBytes + 1));
    got += last.data;
    file = last.next_file;
    offset = last.next_offset;
    return last;
  }

  // Reads (letting the tailer rescan) until `want` bytes arrived and the
  // source has nothing more ahead of us.
  bool read_until(size_t want) {
    return wait_until([&] {
      tailer.poll_changes();
      step();
      return got.size() >= want && last.end_bytes == 0;
    });
  }
};

void rename_file(const std::string& from, const std::string& to) {
  REQUIRE(std::rename(from.c_str(), to.c_str()) == 0);
}

}  // namespace

TEST_CASE("a new file matching the glob is picked up while running", "[tailer]") {
  TempDir dir;
  auto t = make_tailer({dir.file("*.log")});
  CHECK(t->files(kStream).empty());
  append(dir.file("other.txt"), "not matched\n");
  append(dir.file("a.log"), numbered_lines(0, 3));
  REQUIRE(wait_until([&] {
    t->poll_changes();
    return t->files(kStream).size() == 1;
  }));
  Reader r{*t};
  REQUIRE(r.read_until(numbered_lines(0, 3).size()));
  CHECK(r.got == numbered_lines(0, 3));
}

TEST_CASE("a partial last line is held back until its newline arrives", "[tailer]") {
  TempDir dir;
  append(dir.file("a.log"), "one\ntw");
  auto t = make_tailer({dir.file("a.log")});
  Reader r{*t};
  CHECK(r.step().data == "one\n");
  const FetchReply idle = r.step();
  CHECK(idle.data.empty());
  CHECK(idle.end_bytes == 2);  // the partial line counts as lag
  append(dir.file("a.log"), "o\n");
  CHECK(r.step().data == "two\n");
  CHECK(r.got == "one\ntwo\n");
}

TEST_CASE("rotation by rename loses nothing and duplicates nothing", "[tailer]") {
  // access.log* keeps matching the rotated files (recognised by identity);
  // access.log alone loses them from the glob (read through the open fd).
  const std::string pattern = GENERATE(as<std::string>{}, "access.log*", "access.log");
  TempDir dir;
  const std::string live = dir.file("access.log");
  append(live, "");
  auto t = make_tailer({dir.file(pattern)});
  Reader r{*t};
  std::string written;
  int line = 0;
  for (int rotation = 0; rotation < 6; ++rotation) {
    const int fd = ::open(live.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto write_batch = [&] {
      const std::string batch = numbered_lines(line, 20);
      line += 20;
      REQUIRE(::write(fd, batch.data(), batch.size()) == static_cast<ssize_t>(batch.size()));
      written += batch;
      t->poll_changes();
      r.step(300);
    };
    for (int batch = 0; batch < 4; ++batch) write_batch();
    rename_file(live, dir.file("access.log." + std::to_string(rotation)));
    write_batch();  // the writer has not reopened yet: still the renamed file
    t->poll_changes();
    r.step(300);
    ::close(fd);
    append(live, "");
  }
  append(live, numbered_lines(line, 5));
  written += numbered_lines(line, 5);
  INFO("pattern " << pattern);
  size_t diff = 0;
  while (diff < r.got.size() && diff < written.size() && r.got[diff] == written[diff]) ++diff;
  INFO("first difference at " << diff << ": " << written.substr(diff, 30) << " vs " << r.got.substr(diff, 30));
  const bool all = r.read_until(written.size());
  INFO("read " << r.got.size() << " of " << written.size() << " at " << r.file << ":" << r.offset
               << ", lag " << r.last.end_bytes << ", files " << t->files(kStream).size());
  REQUIRE(all);
  CHECK(r.got == written);
}

TEST_CASE("copytruncate: the new content is read from its start under a new id", "[tailer]") {
  TempDir dir;
  const std::string path = dir.file("app.log");
  append(path, numbered_lines(0, 100));
  auto t = make_tailer({path});
  Reader r{*t};
  REQUIRE(r.read_until(numbered_lines(0, 100).size()));
  const std::string first_id = r.file;
  truncate_and_write(path, numbered_lines(100, 50));
  REQUIRE(r.read_until(numbered_lines(0, 150).size()));
  CHECK(r.got == numbered_lines(0, 150));
  CHECK(r.file != first_id);
}

TEST_CASE("copytruncate to longer content is recognised by the fingerprint", "[tailer]") {
  TempDir dir;
  const std::string path = dir.file("app.log");
  append(path, numbered_lines(0, 2));
  auto t = make_tailer({path});
  Reader r{*t};
  REQUIRE(r.read_until(numbered_lines(0, 2).size()));
  truncate_and_write(path, numbered_lines(1000, 200));
  REQUIRE(r.read_until(numbered_lines(0, 2).size() + numbered_lines(1000, 200).size()));
  CHECK(r.got == numbered_lines(0, 2) + numbered_lines(1000, 200));
}

TEST_CASE("copytruncate, then a rename away before any scan: the new content is still read", "[tailer]") {
  // The truncated inode's new lines were renamed out of the glob before the
  // source looked again; only the fd it holds can still reach them.
  TempDir dir;
  const std::string path = dir.file("app.log");
  append(path, numbered_lines(0, 100));
  TailerOptions o = test_options();
  o.use_inotify = false;
  o.poll_interval = std::chrono::hours(1);  // scans happen only when the test says
  auto t = make_tailer({path}, o);
  Reader r{*t};
  REQUIRE(r.read_until(numbered_lines(0, 100).size()));
  truncate_and_write(path, numbered_lines(100, 50));
  rename_file(path, path + ".1");
  append(path, numbered_lines(150, 50));
  t->rescan();
  REQUIRE(r.read_until(numbered_lines(0, 200).size()));
  CHECK(r.got == numbered_lines(0, 200));
}

TEST_CASE("a file deleted while open is read to its end, then closed once committed past",
          "[tailer]") {
  TempDir dir;
  append(dir.file("a.log"), numbered_lines(0, 50));
  auto t = make_tailer({dir.file("*.log")});
  append(dir.file("b.log"), numbered_lines(50, 10));
  REQUIRE(wait_until([&] {
    t->poll_changes();
    return t->files(kStream).size() == 2;
  }));
  const std::string a_id = t->files(kStream)[0].id;
  const std::string b_id = t->files(kStream)[1].id;
  const size_t fds_with_both = open_fd_count();
  REQUIRE(::unlink(dir.file("a.log").c_str()) == 0);
  t->rescan();
  CHECK(t->files(kStream)[0].path.empty());
  CHECK(t->files(kStream)[0].open);

  Reader r{*t};
  r.commit = false;
  REQUIRE(r.read_until(numbered_lines(0, 60).size()));
  CHECK(r.got == numbered_lines(0, 60));
  CHECK(t->open_files() == 2);  // nothing committed yet: a.log is kept

  FetchRequest commit;
  commit.id = 99;
  commit.stream = kStream;
  commit.file = b_id;
  commit.committed_file = b_id;
  CHECK(t->read(commit).error == FetchErrorCode::kOk);
  CHECK(t->open_files() == 1);
  CHECK(open_fd_count() == fds_with_both - 1);

  FetchRequest gone = commit;
  gone.file = a_id;
  const FetchReply unknown = t->read(gone);
  CHECK(unknown.error == FetchErrorCode::kUnknownFile);
  CHECK(unknown.file == b_id);
  CHECK(unknown.next_file == b_id);
}

TEST_CASE("an idle older file is closed after the retention bound even if never committed",
          "[tailer]") {
  TempDir dir;
  TailerOptions o = test_options();
  o.files.finished_retention = std::chrono::milliseconds(100);
  append(dir.file("a.log"), "a\n");
  auto t = make_tailer({dir.file("*.log")}, o);
  append(dir.file("b.log"), "b\n");
  REQUIRE(wait_until([&] {
    t->poll_changes();
    return t->files(kStream).size() == 2;
  }));
  ::unlink(dir.file("a.log").c_str());
  REQUIRE(wait_until([&] {
    t->poll_changes();
    return t->open_files() == 1;
  }));
  CHECK(t->files(kStream).size() == 1);
}

TEST_CASE("at most max_retained_files are kept and forgotten files are not picked up again",
          "[tailer]") {
  TempDir dir;
  TailerOptions o = test_options();
  o.files.max_retained_files = 2;
  for (const char* name : {"1.log", "2.log", "3.log"}) append(dir.file(name), std::string(name) + "\n");
  auto t = make_tailer({dir.file("*.log")}, o);
  CHECK(t->files(kStream).size() == 2);
  CHECK(t->open_files() == 2);
  for (int i = 0; i < 5; ++i) t->rescan();
  CHECK(t->files(kStream).size() == 2);
  CHECK(t->files(kStream)[0].path == dir.file("2.log"));
}

TEST_CASE("files present at start are read oldest first by modification time", "[tailer]") {
  TempDir dir;
  append(dir.file("b.log"), "old\n");
  append(dir.file("a.log"), "new\n");
  const timespec an_hour_ago[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
  REQUIRE(::utimensat(AT_FDCWD, dir.file("b.log").c_str(), an_hour_ago, 0) == 0);
  auto t = make_tailer({dir.file("*.log")});
  Reader r{*t};
  REQUIRE(r.read_until(8));
  CHECK(r.got == "old\nnew\n");
}

TEST_CASE("an id given while the file was short still names it after a restart", "[tailer]") {
  TempDir dir;
  const std::string path = dir.file("a.log");
  append(path, "0123456\n");
  std::string short_id;
  {
    auto first = make_tailer({path});
    short_id = first->files(kStream).at(0).id;
  }
  append(path, numbered_lines(0, 40));
  auto restarted = make_tailer({path});
  const std::string long_id = restarted->files(kStream).at(0).id;
  CHECK(long_id != short_id);
  FetchRequest req;
  req.id = 1;
  req.stream = kStream;
  req.file = short_id;
  req.offset = 8;
  req.max_bytes = 1 << 20;
  const FetchReply reply = restarted->read(req);
  REQUIRE(reply.error == FetchErrorCode::kOk);
  CHECK(reply.file == long_id);
  CHECK(reply.offset == 8);
  CHECK(reply.data == numbered_lines(0, 40));
}

TEST_CASE("bad requests get typed errors", "[tailer]") {
  TempDir dir;
  append(dir.file("a.log"), "x\n");
  auto t = make_tailer({dir.file("a.log")});
  const std::string id = t->files(kStream).at(0).id;
  FetchRequest req;
  req.id = 1;
  req.stream = kStream;
  req.max_bytes = 100;

  FetchRequest unknown_stream = req;
  unknown_stream.stream = "web/nope";
  CHECK(t->read(unknown_stream).error == FetchErrorCode::kUnknownStream);

  FetchRequest bad_file = req;
  bad_file.file = "not-an-id";
  const FetchReply unknown = t->read(bad_file);
  CHECK(unknown.error == FetchErrorCode::kUnknownFile);
  CHECK(unknown.file == id);
  CHECK(unknown.offset == 0);
  CHECK(unknown.end_bytes == 2);

  FetchRequest past_end = req;
  past_end.file = id;
  past_end.offset = 3;
  CHECK(t->read(past_end).error == FetchErrorCode::kBadRequest);

  FetchRequest zero = req;
  zero.max_bytes = 0;
  CHECK(t->read(zero).error == FetchErrorCode::kBadRequest);

  FetchRequest long_id = req;
  long_id.file = std::string(129, 'a');
  CHECK(t->read(long_id).error == FetchErrorCode::kBadRequest);
}

TEST_CASE("the tailer refuses bad configuration", "[tailer]") {
  CHECK_FALSE(Tailer::create({StreamConfig{"", {"/tmp/x"}}}, test_options()).ok());
  CHECK_FALSE(Tailer::create({StreamConfig{"a/b", {}}}, test_options()).ok());
  CHECK_FALSE(Tailer::create({StreamConfig{"a/b", {"/x"}}, StreamConfig{"a/b", {"/y"}}},
                             test_options())
                  .ok());
}

TEST_CASE("a reader does not move past a file that grew within the grace period", "[tailer]") {
  TempDir dir;
  TailerOptions o = test_options();
  o.files.finish_grace = std::chrono::hours(1);  // never passes during the test
  append(dir.file("a.log"), "a1\n");
  auto t = make_tailer({dir.file("a.log*")}, o);
  append(dir.file("a.log.new"), "b1\n");
  t->rescan();
  REQUIRE(t->files(kStream).size() == 2);
  Reader r{*t};
  CHECK(r.step().data == "a1\n");
  for (int i = 0; i < 3; ++i) {
    const FetchReply at_end = r.step();
    CHECK(at_end.data.empty());
    CHECK(at_end.next_file == t->files(kStream)[0].id);
    CHECK(at_end.end_bytes == 3);  // b1 waits
  }
  append(dir.file("a.log"), "a2\n");
  CHECK(r.step().data == "a2\n");
}

TEST_CASE("a finished file's unterminated last line gets a newline before the next file",
          "[tailer]") {
  TempDir dir;
  append(dir.file("a.log"), "x\nlast");
  auto t = make_tailer({dir.file("*.log")});
  append(dir.file("b.log"), "b\n");
  Reader r{*t};
  REQUIRE(r.read_until(9));
  CHECK(r.got == "x\nlast\nb\n");
}

TEST_CASE("a long line is cut into pieces of the line limit through the tailer", "[tailer]") {
  TempDir dir;
  TailerOptions o = test_options();
  o.max_line_bytes = 64;
  const std::string line(150, 'q');
  append(dir.file("a.log"), line + "\nshort\n");
  auto t = make_tailer({dir.file("a.log")}, o);
  Reader r{*t};
  CHECK(r.step(16).data == std::string(64, 'q') + "\n");
  CHECK(r.step(16).data == std::string(64, 'q') + "\n");
  CHECK(r.step(16).data == std::string(22, 'q') + "\n");
  CHECK(r.step(16).data == "short\n");
  CHECK(r.offset == line.size() + 7);
}

TEST_CASE("inotify alone picks up a new file when polling is rare", "[tailer]") {
  TempDir dir;
  TailerOptions o = test_options();
  o.poll_interval = std::chrono::hours(1);
  auto t = make_tailer({dir.file("*.log")}, o);
  REQUIRE(t->fd() >= 0);
  CHECK(t->poll_timeout() > std::chrono::minutes(59));
  append(dir.file("a.log"), "hello\n");
  REQUIRE(wait_until([&] {
    t->poll_changes();
    return t->files(kStream).size() == 1;
  }));
}

TEST_CASE("polling alone picks up a new file without inotify", "[tailer]") {
  TempDir dir;
  TailerOptions o = test_options();
  o.use_inotify = false;
  auto t = make_tailer({dir.file("*.log")}, o);
  CHECK(t->fd() == -1);
  append(dir.file("a.log"), "hello\n");
  REQUIRE(wait_until([&] {
    t->poll_changes();
    return t->files(kStream).size() == 1;
  }));
}
