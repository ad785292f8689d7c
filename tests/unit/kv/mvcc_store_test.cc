#include <catch2/catch.hpp>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/limits.h"
#include "kv_test_util.h"

using namespace corral;
using namespace corral::kv;
using corral::kv::test::StoreFixture;

namespace {

std::vector<std::string> keys_of(const RangeResult& r) {
  std::vector<std::string> out;
  for (const auto& kv : r.kvs) out.push_back(kv.key);
  return out;
}

}  // namespace

TEST_CASE("put sets create/mod revision and version, delete then recreate starts over", "[mvcc]") {
  StoreFixture f;
  CHECK(f.store().current_revision() == 0);
  CHECK(f.put("k", "v1", 7) == 1);
  CHECK(f.put("other", "x") == 2);
  CHECK(f.put("k", "v2") == 3);

  auto kv = f.get("k");
  REQUIRE(kv);
  CHECK(kv->value == "v2");
  CHECK(kv->create_revision == 1);
  CHECK(kv->mod_revision == 3);
  CHECK(kv->version == 2);
  CHECK(kv->lease == 0);
  CHECK(f.get("k", 1)->lease == 7);

  CHECK(f.del("k") == 1);
  CHECK(f.store().current_revision() == 4);
  CHECK_FALSE(f.get("k"));
  CHECK(f.get("k", 3)->value == "v2");

  CHECK(f.put("k", "v3") == 5);
  kv = f.get("k");
  REQUIRE(kv);
  CHECK(kv->create_revision == 5);
  CHECK(kv->mod_revision == 5);
  CHECK(kv->version == 1);
}

TEST_CASE("prev_kv_in_events off: an overwrite's event has no prev_kv, previous_kv reads it", "[mvcc]") {
  StoreFixture f;
  f.store().set_prev_kv_in_events(false);
  CHECK(f.put("k", "v1", 7) == 1);
  auto events = f.write([](WriteTxn& t) { REQUIRE(t.put("k", "v2").ok()); });
  REQUIRE(events.events.size() == 1);
  const Event& e = events.events[0];
  CHECK_FALSE(e.prev_kv);
  // create_revision and version come from the index.
  CHECK(e.kv.create_revision == 1);
  CHECK(e.kv.version == 2);
  auto prev = f.store().previous_kv("k", events.revision);
  REQUIRE(prev.ok());
  REQUIRE(prev->has_value());
  CHECK((*prev)->value == "v1");
  CHECK((*prev)->lease == 7);
  auto created = f.store().previous_kv("k", 1);  // the put that created it overwrote nothing
  REQUIRE(created.ok());
  CHECK_FALSE(created->has_value());
  auto missing = f.store().previous_kv("nothing", 2);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  // What a request asks for is still read.
  PutOptions want_prev;
  want_prev.prev_kv = true;
  f.write([&](WriteTxn& t) {
    auto r = t.put("k", "v3", 0, want_prev);
    REQUIRE(r.ok());
    REQUIRE(r->prev_kv);
    CHECK(r->prev_kv->value == "v2");
  });
  PutOptions keep_value;
  keep_value.ignore_value = true;
  f.write([&](WriteTxn& t) { REQUIRE(t.put("k", "", 9, keep_value).ok()); });
  auto kv = f.get("k");
  REQUIRE(kv);
  CHECK(kv->value == "v3");
  CHECK(kv->lease == 9);
  CHECK(kv->version == 4);

  // Deleted and put again: a new generation, so nothing overwritten.
  f.del("k");
  events = f.write([](WriteTxn& t) { REQUIRE(t.put("k", "v5").ok()); });
  CHECK(events.events[0].kv.version == 1);
  CHECK(events.events[0].kv.create_revision == events.revision);
  auto after_delete = f.store().previous_kv("k", events.revision);
  REQUIRE(after_delete.ok());
  CHECK_FALSE(after_delete->has_value());
}

TEST_CASE("a write that changes nothing keeps the revision but records the index", "[mvcc]") {
  StoreFixture f;
  f.put("a", "1");
  auto events = f.write([](WriteTxn& t) {
    auto r = t.delete_range("missing");
    REQUIRE(r.ok());
    CHECK(r->deleted == 0);
  });
  CHECK(events.events.empty());
  CHECK(events.revision == 1);
  CHECK(f.store().current_revision() == 1);
  CHECK(f.store().applied_index() == 2);
}

TEST_CASE("puts with ignore_value, ignore_lease and prev_kv", "[mvcc]") {
  StoreFixture f;
  f.put("k", "keep", 9);
  f.write([](WriteTxn& t) {
    PutOptions o;
    o.ignore_value = true;
    o.prev_kv = true;
    auto r = t.put("k", "", 3, o);
    REQUIRE(r.ok());
    REQUIRE(r->prev_kv);
    CHECK(r->prev_kv->value == "keep");
  });
  CHECK(f.get("k")->value == "keep");
  CHECK(f.get("k")->lease == 3);
  f.write([](WriteTxn& t) {
    PutOptions o;
    o.ignore_lease = true;
    REQUIRE(t.put("k", "new", 0, o).ok());
  });
  CHECK(f.get("k")->value == "new");
  CHECK(f.get("k")->lease == 3);
  CHECK(f.get("k")->version == 3);

  f.write([](WriteTxn& t) {
    PutOptions o;
    o.ignore_value = true;
    auto r = t.put("absent", "", 0, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kNotFound);
    CHECK(t.put("k", "not empty", 0, o).error().code == ErrorCode::kBadRequest);
    CHECK_FALSE(t.changed());
  });
  CHECK(f.store().current_revision() == 3);
}

TEST_CASE("range: limit, count_only, keys_only, prefix, from-key, all keys, past revision", "[mvcc]") {
  StoreFixture f;
  f.put("/a/1", "x");         // 1
  f.put("/a/2", "y");         // 2
  f.put("/a/3", "z");         // 3
  f.put("/b/1", "w");         // 4
  f.put(std::string("\x01", 1), "low");  // 5
  f.del("/a/2");              // 6

  auto prefix = f.store().range("/a/", prefix_end("/a/"));
  REQUIRE(prefix.ok());
  CHECK(keys_of(*prefix) == std::vector<std::string>{"/a/1", "/a/3"});
  CHECK(prefix->count == 2);
  CHECK(prefix->revision == 6);
  CHECK_FALSE(prefix->more);

  RangeOptions limit;
  limit.limit = 1;
  auto limited = f.store().range("/a/", prefix_end("/a/"), limit);
  REQUIRE(limited.ok());
  CHECK(keys_of(*limited) == std::vector<std::string>{"/a/1"});
  CHECK(limited->count == 2);
  CHECK(limited->more);

  RangeOptions count;
  count.count_only = true;
  auto counted = f.store().range("/", kRangeEndAll, count);
  REQUIRE(counted.ok());
  CHECK(counted->kvs.empty());
  CHECK(counted->count == 3);

  RangeOptions keys;
  keys.keys_only = true;
  auto ko = f.store().range("/b/1", {}, keys);
  REQUIRE(ko.ok());
  REQUIRE(ko->kvs.size() == 1);
  CHECK(ko->kvs[0].value.empty());
  CHECK(ko->kvs[0].mod_revision == 4);

  auto all = f.store().range(std::string(kRangeEndAll), kRangeEndAll);
  REQUIRE(all.ok());
  CHECK(keys_of(*all) == std::vector<std::string>{std::string("\x01", 1), "/a/1", "/a/3", "/b/1"});

  auto from = f.store().range("/a/3", kRangeEndAll);
  REQUIRE(from.ok());
  CHECK(keys_of(*from) == std::vector<std::string>{"/a/3", "/b/1"});

  RangeOptions past;
  past.revision = 3;
  auto old = f.store().range("/a/", prefix_end("/a/"), past);
  REQUIRE(old.ok());
  CHECK(keys_of(*old) == std::vector<std::string>{"/a/1", "/a/2", "/a/3"});
  CHECK(old->kvs[1].value == "y");
  CHECK(old->revision == 6);

  RangeOptions future;
  future.revision = 7;
  auto fut = f.store().range("/a/1", {}, future);
  REQUIRE_FALSE(fut.ok());
  CHECK(fut.error().code == ErrorCode::kFutureRevision);
  CHECK(fut.error().revision == 6);
}

TEST_CASE("list gives direct children, marked key or directory, deduplicated", "[mvcc][list]") {
  StoreFixture f;
  f.put("/apps/web/10.0.0.1", "s");
  f.put("/apps/web/10.0.0.2", "s");
  f.put("/apps/web/logs/a", "s");
  f.put("/apps/web/logs/b/c", "s");
  f.put("/apps/web/logs", "also a key");
  f.put("/apps/web-2/x", "sibling, not a child");
  f.put("/apps/webx", "not a child");
  f.put("/apps/web/gone/x", "s");
  f.put("/apps/web/a-b", "sorts between logs and logs/");
  Revision before_delete = f.store().current_revision();
  f.del("/apps/web/gone/x");

  auto ls = f.store().list("/apps/web");
  REQUIRE(ls.ok());
  std::vector<DirEntry> want = {
      {"10.0.0.1", true, false},
      {"10.0.0.2", true, false},
      {"a-b", true, false},
      {"logs", true, true},
  };
  CHECK(ls->entries == want);
  auto same = f.store().list("/apps/web/");
  REQUIRE(same.ok());
  CHECK(same->entries == want);

  auto old = f.store().list("/apps/web", before_delete);
  REQUIRE(old.ok());
  REQUIRE(old->entries.size() == 5);
  CHECK(old->entries[1].name == "10.0.0.2");
  CHECK(old->entries[3].name == "gone");
  CHECK(old->entries[3].is_dir);

  auto top = f.store().list("/");
  REQUIRE(top.ok());
  CHECK(top->entries == std::vector<DirEntry>{{"apps", false, true}});
  auto nested = f.store().list("/apps/web/logs");
  REQUIRE(nested.ok());
  CHECK(nested->entries == std::vector<DirEntry>{{"a", true, false}, {"b", false, true}});
  auto none = f.store().list("/nothing");
  REQUIRE(none.ok());
  CHECK(none->entries.empty());
  CHECK(f.store().list("").error().code == ErrorCode::kBadRequest);
}

TEST_CASE("bad input gets a typed error and changes nothing", "[mvcc][limits]") {
  StoreFixture f;
  f.put("k", "v");
  Revision rev = f.store().current_revision();
  f.write([](WriteTxn& t) {
    CHECK(t.put("", "v").error().code == ErrorCode::kBadRequest);
    CHECK(t.put(std::string(kMaxKeyBytes + 1, 'k'), "v").error().code == ErrorCode::kTooLarge);
    CHECK(t.put("k", std::string(kMaxValueBytes + 1, 'v')).error().code == ErrorCode::kTooLarge);
    CHECK(t.put("k", "v", -1).error().code == ErrorCode::kBadRequest);
    CHECK(t.delete_range("", "").error().code == ErrorCode::kBadRequest);
    CHECK(t.delete_range("z", "a").error().code == ErrorCode::kBadRequest);
    CHECK_FALSE(t.changed());
  });
  CHECK(f.put(std::string(kMaxKeyBytes, 'k'), std::string(kMaxValueBytes, 'v')) == rev + 1);
  CHECK(f.store().range("z", "a").error().code == ErrorCode::kBadRequest);
  RangeOptions neg;
  neg.limit = -1;
  CHECK(f.store().range("k", {}, neg).error().code == ErrorCode::kBadRequest);
  CHECK(f.get("k")->value == "v");
  CHECK(f.store().current_revision() == rev + 1);
}

TEST_CASE("compaction: reads below fail with the compact revision, at and above work", "[mvcc][compact]") {
  StoreFixture f;
  f.put("a", "1");  // 1
  f.put("a", "2");  // 2
  f.put("b", "1");  // 3
  f.del("b");       // 4
  f.put("a", "3");  // 5
  f.compact(4);
  CHECK(f.store().compact_revision() == 4);

  RangeOptions o;
  o.revision = 3;
  auto r = f.store().range("a", {}, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCompacted);
  CHECK(r.error().revision == 4);
  CHECK(r.error().message.find("4") != std::string::npos);

  CHECK(f.get("a", 4)->value == "2");
  CHECK_FALSE(f.get("b", 4));
  CHECK(f.get("a", 5)->value == "3");
  CHECK(f.get("a", 5)->version == 3);

  // Superseded records are gone from the engine: a@1. b's delete is a change
  // at the compaction point (a watch from 4 gets it, with b@3 as prev_kv), so
  // both of b's records stay until a later compaction.
  auto records = [&] {
    size_t n = 0;
    for (auto it = f.engine().scan(storage::Space::kKv, "", ""); it->valid(); it->next()) ++n;
    return n;
  };
  CHECK(records() == 4);
  auto deleted = f.store().events(4, "b", "", 10);
  REQUIRE(deleted.ok());
  REQUIRE(deleted->size() == 1);
  CHECK(deleted->at(0).events.at(0).type == Event::Type::kDelete);
  CHECK(deleted->at(0).events.at(0).prev_kv->value == "1");
  f.compact(5);  // now both of b's go; a@2 stays as the prev_kv of a@5
  CHECK(records() == 2);
  CHECK(f.get("a", 5)->version == 3);

  storage::WriteBatch batch;
  CHECK(f.store().compact(5, batch).error().code == ErrorCode::kCompacted);
  CHECK(f.store().compact(6, batch).error().code == ErrorCode::kFutureRevision);
  CHECK(f.store().compact(-1, batch).error().code == ErrorCode::kBadRequest);
  CHECK(batch.empty());
}
