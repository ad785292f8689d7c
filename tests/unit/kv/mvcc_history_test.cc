#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

#include "coordinator/kv/key_range.h"
#include "kv_test_util.h"

using namespace corral;
using namespace corral::kv;
using corral::kv::test::StoreFixture;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() /
           ("corral-kv-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("events history across puts and deletes, with prev_kv", "[history]") {
  StoreFixture f;
  f.put("/w/a", "1");   // 1
  f.put("/x", "out");   // 2
  f.put("/w/a", "2");   // 3
  f.write([](WriteTxn& t) {  // 4: two events in one revision
    REQUIRE(t.put("/w/b", "1").ok());
    REQUIRE(t.delete_range("/w/a").ok());
  });
  f.put("/w/a", "3");   // 5

  auto h = f.store().events(1, "/w/", prefix_end("/w/"), 100);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 4);
  CHECK((*h)[0].revision == 1);
  CHECK((*h)[1].revision == 3);
  CHECK((*h)[2].revision == 4);
  CHECK((*h)[3].revision == 5);
  const Event& first = (*h)[0].events.at(0);
  CHECK(first.type == Event::Type::kPut);
  CHECK_FALSE(first.prev_kv);
  const Event& second = (*h)[1].events.at(0);
  REQUIRE(second.prev_kv);
  CHECK(second.prev_kv->value == "1");
  CHECK(second.kv.version == 2);
  REQUIRE((*h)[2].events.size() == 2);
  CHECK((*h)[2].events[0].kv.key == "/w/b");
  const Event& del = (*h)[2].events[1];
  CHECK(del.type == Event::Type::kDelete);
  CHECK(del.kv.key == "/w/a");
  CHECK(del.kv.mod_revision == 4);
  REQUIRE(del.prev_kv);
  CHECK(del.prev_kv->value == "2");
  const Event& recreate = (*h)[3].events.at(0);
  CHECK_FALSE(recreate.prev_kv);
  CHECK(recreate.kv.create_revision == 5);

  // max_events stops at a revision boundary, never inside revision 4.
  auto part = f.store().events(3, "/w/", prefix_end("/w/"), 2);
  REQUIRE(part.ok());
  REQUIRE(part->size() == 2);
  CHECK((*part)[1].events.size() == 2);
  auto one = f.store().events(1, "/w/a", "", 1);
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK(one->at(0).revision == 1);
  auto empty = f.store().events(6, "", kRangeEndAll, 10);
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  // Events returned by commit carry prev_kv too: the watch layer's live feed.
  auto live = f.write([](WriteTxn& t) { REQUIRE(t.put("/w/a", "4").ok()); });
  REQUIRE(live.events.size() == 1);
  CHECK(live.revision == 6);
  REQUIRE(live.events[0].prev_kv);
  CHECK(live.events[0].prev_kv->value == "3");

  f.compact(3);
  auto gone = f.store().events(2, "/w/", prefix_end("/w/"), 10);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ErrorCode::kCompacted);
  CHECK(gone.error().revision == 3);
  auto after = f.store().events(4, "/w/", prefix_end("/w/"), 10);
  REQUIRE(after.ok());
  REQUIRE(after->size() == 3);
  CHECK(after->at(0).events.at(1).prev_kv->value == "2");  // kept: latest put at the compact revision
  CHECK(f.store().events(1, "/w/a", "", 0).error().code == ErrorCode::kBadRequest);
}

// etcd's boundary: after compact(c), history (like a range) from c - 1 is
// refused with c, and from c it is served, the changes at c included with
// their prev_kv; the same after a reopen rebuilds the index from disk.
TEST_CASE("history from the compaction point is served, from below it refused", "[history][compact]") {
  TempDir dir("boundary");
  StoreFixture f(dir.path.string());
  f.put("/b/a", "1");  // 1
  f.put("/b/d", "1");  // 2
  f.put("/b/a", "2");  // 3
  f.write([](WriteTxn& t) {  // 4: a delete, a put over an older put, and a key
    REQUIRE(t.delete_range("/b/d").ok());  // deleted and created again
    REQUIRE(t.put("/b/a", "3").ok());
    REQUIRE(t.put("/b/n", "x").ok());
    REQUIRE(t.delete_range("/b/n").ok());
    REQUIRE(t.put("/b/n", "y").ok());
  });
  f.put("/b/a", "4");  // 5
  std::vector<RevisionEvents> full = *f.store().events(1, "/b/", prefix_end("/b/"), 100);
  REQUIRE(full.size() == 5);
  f.compact(4);

  for (int pass = 0; pass < 2; ++pass) {
    INFO((pass == 0 ? "before" : "after") << " reopen");
    auto below = f.store().events(3, "/b/", prefix_end("/b/"), 100);
    REQUIRE_FALSE(below.ok());
    CHECK(below.error().code == ErrorCode::kCompacted);
    CHECK(below.error().revision == 4);
    RangeOptions o;
    o.revision = 3;
    auto range_below = f.store().range("/b/a", {}, o);
    REQUIRE_FALSE(range_below.ok());
    CHECK(range_below.error().code == ErrorCode::kCompacted);
    CHECK(range_below.error().revision == 4);

    auto at = f.store().events(4, "/b/", prefix_end("/b/"), 100);
    REQUIRE(at.ok());
    REQUIRE(at->size() == 2);
    CHECK(at->at(0).revision == 4);
    CHECK(at->at(0).events == full[3].events);  // all five changes, with their prev_kv
    CHECK(at->at(1).events == full[4].events);
    REQUIRE(at->at(0).events.at(0).prev_kv);
    CHECK(at->at(0).events.at(0).type == Event::Type::kDelete);
    CHECK(at->at(0).events.at(0).prev_kv->value == "1");
    CHECK(at->at(0).events.at(1).prev_kv->value == "2");
    o.revision = 4;
    auto range_at = f.store().range("/b/", prefix_end("/b/"), o);
    REQUIRE(range_at.ok());
    REQUIRE(range_at->kvs.size() == 2);
    CHECK(range_at->kvs[0].value == "3");
    CHECK(range_at->kvs[1].value == "y");
    CHECK(range_at->kvs[1].version == 1);
    if (pass == 0) f.reopen();
  }

  // The next compaction lets revision 4's extra records go.
  f.compact(5);
  CHECK_FALSE(f.store().events(4, "/b/", prefix_end("/b/"), 100).ok());
  auto last = f.store().events(5, "/b/", prefix_end("/b/"), 100);
  REQUIRE(last.ok());
  REQUIRE(last->size() == 1);
  CHECK(last->at(0).events == full[4].events);
  CHECK(f.store().indexed_keys() == 2);  // /b/d's delete is gone with its put
}

TEST_CASE("staged but unwritten changes are served from memory", "[history]") {
  StoreFixture f;
  f.put("k", "1");  // 1, written
  storage::WriteBatch batch;
  for (uint64_t i = 0; i < 3; ++i) {
    WriteTxn t = f.store().begin_write(f.store().applied_index() + 1);
    REQUIRE(t.put("k", "v" + std::to_string(i)).ok());
    t.commit(batch);
  }
  CHECK(f.store().current_revision() == 4);
  CHECK(f.get("k")->value == "v2");
  CHECK(f.get("k", 2)->value == "v0");
  auto h = f.store().events(1, "k", "", 100);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 4);
  CHECK(h->at(3).events.at(0).prev_kv->value == "v1");
  REQUIRE(f.engine().write(std::move(batch), false).ok());
  f.store().batch_written();
  CHECK(f.get("k", 3)->value == "v1");
  auto again = f.store().events(1, "k", "", 100);
  REQUIRE(again.ok());
  CHECK(again->size() == 4);
}

TEST_CASE("an abandoned write txn leaves no trace", "[history]") {
  StoreFixture f;
  f.put("k", "1");
  {
    WriteTxn t = f.store().begin_write(f.store().applied_index() + 1);
    REQUIRE(t.put("k", "2").ok());
    REQUIRE(t.put("new", "x").ok());
    REQUIRE(t.delete_range("k").ok());
  }
  CHECK(f.get("k")->value == "1");
  CHECK_FALSE(f.get("new"));
  CHECK(f.put("k", "3") == 2);
  CHECK(f.get("k")->version == 2);
}

TEST_CASE("reopening a disk engine rebuilds identical answers and the applied index", "[recovery]") {
  TempDir dir("recovery");
  StoreFixture f(dir.path.string());
  f.put("/apps/web/1", "a", 11);  // 1
  f.put("/apps/web/2", "b");      // 2
  f.put("/apps/web/1", "c");      // 3
  f.del("/apps/web/2");           // 4
  f.put("/apps/db/x", "d");       // 5
  f.put("/apps/web/2", "e");      // 6
  f.put("/apps/web/1", "g");      // 7
  f.compact(3);
  f.write([](WriteTxn& t) { REQUIRE(t.delete_range("missing").ok()); });  // no revision, index 8

  struct Snapshot {
    Revision current, compact;
    uint64_t applied;
    std::vector<std::vector<KeyValue>> ranges;
    std::vector<std::vector<DirEntry>> lists;
    std::vector<RevisionEvents> history;
    size_t keys;
  };
  auto snapshot = [&](MvccStore& s) {
    Snapshot snap{s.current_revision(), s.compact_revision(), s.applied_index(), {}, {}, {}, s.indexed_keys()};
    for (Revision r = s.compact_revision(); r <= s.current_revision(); ++r) {
      RangeOptions o;
      o.revision = r;
      auto all = s.range("", kRangeEndAll, o);
      REQUIRE(all.ok());
      snap.ranges.push_back(all->kvs);
      auto ls = s.list("/apps/web", r);
      REQUIRE(ls.ok());
      snap.lists.push_back(ls->entries);
    }
    auto h = s.events(s.compact_revision(), "", kRangeEndAll, 100);
    REQUIRE(h.ok());
    snap.history = *h;
    return snap;
  };
  Snapshot before = snapshot(f.store());
  CHECK(before.applied == 8);  // seven puts and the empty write; compact records none
  CHECK(before.current == 7);
  f.reopen();
  Snapshot after = snapshot(f.store());
  CHECK(after.current == before.current);
  CHECK(after.compact == before.compact);
  CHECK(after.applied == before.applied);
  CHECK(after.keys == before.keys);
  CHECK(after.ranges == before.ranges);
  CHECK(after.lists == before.lists);
  REQUIRE(after.history.size() == before.history.size());
  for (size_t i = 0; i < after.history.size(); ++i) {
    CHECK(after.history[i].revision == before.history[i].revision);
    CHECK(after.history[i].events == before.history[i].events);
  }
  // Versions continue from the stored ones after compaction dropped older puts.
  CHECK(f.put("/apps/web/1", "h") == 8);
  CHECK(f.get("/apps/web/1")->version == 4);
  CHECK(f.get("/apps/web/1")->create_revision == 1);
}

TEST_CASE("a store refuses a kKv space it cannot read", "[recovery]") {
  storage::EngineOptions opts;
  opts.in_memory = true;
  opts.path = "/kv-corrupt";
  auto engine = storage::Engine::open(opts);
  REQUIRE(engine.ok());
  storage::WriteBatch batch;
  batch.put(storage::Space::kKv, "not a revision key", "x");
  REQUIRE((*engine)->write(std::move(batch), false).ok());
  auto store = MvccStore::open(**engine);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kStorage);

  storage::WriteBatch garbage;
  garbage.del(storage::Space::kKv, "not a revision key");
  garbage.put(storage::Space::kKv, revision_key(Rev{1, 0}), "12345678");
  REQUIRE((*engine)->write(std::move(garbage), false).ok());
  auto again = MvccStore::open(**engine);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kStorage);
}

TEST_CASE("opening a store gathers the live keys' leases from each key's newest record", "[recovery]") {
  TempDir dir("leased");
  StoreFixture f(dir.path.string());
  f.put("/a/kept", "1", 7);         // leased, stays so
  f.put("/a/dropped", "1", 7);      // leased, then overwritten without one
  f.put("/a/deleted", "1", 8);      // leased, then deleted
  f.put("/a/moved", "1", 7);        // leased, then moved to another lease
  f.put("/a/late", "1");            // plain, then leased
  f.put("/a/plain", "1");           // never leased
  f.put("/a/dropped", "2");
  f.del("/a/deleted");
  f.put("/a/moved", "2", 9);
  f.put("/a/late", "2", 10);
  f.put("/a/reborn", "1", 11);      // leased, deleted, put again without a lease
  f.del("/a/reborn");
  f.put("/a/reborn", "2");
  f.compact(4);                     // older records gone: the newest still decide
  f.reopen();
  using Leased = std::vector<std::pair<LeaseId, std::string>>;
  CHECK(f.store().take_leased_at_open() == Leased{{7, "/a/kept"}, {10, "/a/late"}, {9, "/a/moved"}});
  CHECK(f.store().take_leased_at_open().empty());  // taken once
}
