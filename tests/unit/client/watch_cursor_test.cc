#include "client/watch_cursor.h"

#include <catch2/catch.hpp>

using namespace corral::client;

namespace {
WatchEvent ev(int64_t revision, std::string key = "/k") {
  WatchEvent e;
  e.kv.key = std::move(key);
  e.kv.mod_revision = revision;
  return e;
}
std::vector<int64_t> revisions(const std::vector<WatchEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e.kv.mod_revision);
  return out;
}
}  // namespace

TEST_CASE("a watch from now resumes after the creation revision") {
  WatchCursor c(0);
  CHECK(c.resume_revision() == 0);
  c.on_created(10);
  CHECK(c.resume_revision() == 11);
  c.on_created(50);  // a re-creation never moves the start
  CHECK(c.resume_revision() == 11);
}

TEST_CASE("events already seen are dropped after a resume, the rest advance the cursor") {
  WatchCursor c(5);
  c.on_created(3);
  CHECK(c.resume_revision() == 5);
  CHECK(revisions(c.accept({ev(5), ev(6), ev(6, "/j")})) == std::vector<int64_t>{5, 6, 6});
  CHECK(c.resume_revision() == 7);
  // A member that replays from an older point (6 again) after a reconnect:
  // what was delivered is filtered out.
  CHECK(revisions(c.accept({ev(6), ev(7), ev(8)})) == std::vector<int64_t>{7, 8});
  CHECK(c.resume_revision() == 9);
  CHECK(c.accept({ev(3), ev(8)}).empty());
  CHECK(c.resume_revision() == 9);
}

TEST_CASE("progress notifications move the resume point, never back") {
  WatchCursor c(1);
  c.on_progress(20);
  CHECK(c.resume_revision() == 21);
  c.on_progress(15);
  CHECK(c.resume_revision() == 21);
  CHECK(c.accept({ev(20)}).empty());
  CHECK(revisions(c.accept({ev(21)})) == std::vector<int64_t>{21});
}
