// WatchHub over the real key space: MvccStore on an in-memory engine.
#include "coordinator/watch/kv_history.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "coordinator/watch/key_range.h"
#include "coordinator/watch/watch_hub.h"

namespace corral::watch {
namespace {

struct KvFixture {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<kv::MvccStore> store;
  uint64_t index = 0;

  KvFixture() {
    storage::EngineOptions options;
    options.path = "/watch-kv-test";
    options.in_memory = true;
    auto opened = storage::Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(opened).value();
    auto s = kv::MvccStore::open(*engine);
    REQUIRE(s.ok());
    store = std::move(s).value();
  }

  // One write txn: puts (value set) and deletes (value empty), written.
  kv::RevisionEvents write(const std::vector<std::pair<std::string, std::string>>& ops) {
    storage::WriteBatch batch;
    kv::WriteTxn txn = store->begin_write(++index);
    for (const auto& [key, value] : ops) {
      if (value.empty()) {
        REQUIRE(txn.delete_range(key).ok());
      } else {
        REQUIRE(txn.put(key, value).ok());
      }
    }
    kv::RevisionEvents events = txn.commit(batch);
    REQUIRE(engine->write(std::move(batch), false).ok());
    store->batch_written();
    return events;
  }
};

std::vector<Delivery> drain_all(WatchHub& hub, StreamId s) {
  auto out = hub.drain(s, 100'000);
  REQUIRE(out.ok());
  return std::move(out).value();
}

TEST_CASE("kv history: catch up from the store, then live, with prev_kv") {
  KvFixture f;
  KvHistory history(*f.store);
  WatchHub hub(history);
  for (int i = 0; i < 10; ++i) hub.on_commit(f.write({{"/apps/k" + std::to_string(i % 2), "v"}}));
  hub.on_commit(f.write({{"/other", "x"}}));

  StreamId s = *hub.open_stream();
  WatchRequest w;
  w.key = "/apps/";
  w.range_end = prefix_end(w.key);
  w.start_revision = 3;
  w.prev_kv = true;
  REQUIRE(hub.create(s, w).ok());
  for (int i = 0; i < 100 && hub.has_unsynced(); ++i) {
    hub.sync_step(2);
    if (i == 1) hub.on_commit(f.write({{"/apps/live", "1"}}));
  }
  REQUIRE_FALSE(hub.has_unsynced());
  hub.on_commit(f.write({{"/apps/k0", ""}}));

  std::vector<kv::Revision> revisions;
  bool saw_prev = false;
  for (const auto& d : drain_all(hub, s)) {
    if (d.kind != Delivery::Kind::kEvents) continue;
    revisions.push_back(d.revision);
    for (const auto& e : d.events->events) {
      CHECK(e.kv.key.starts_with("/apps/"));
      if (e.prev_kv) saw_prev = true;
    }
  }
  // Revisions 3..10 from history, 12 (live during catch-up), 13 (delete).
  CHECK(revisions == std::vector<kv::Revision>{3, 4, 5, 6, 7, 8, 9, 10, 12, 13});
  CHECK(saw_prev);
}

TEST_CASE("kv history: a watch on every key and a compacted start") {
  KvFixture f;
  KvHistory history(*f.store);
  WatchHub hub(history);
  for (int i = 0; i < 6; ++i) hub.on_commit(f.write({{"k" + std::to_string(i), "v"}}));
  storage::WriteBatch batch;
  REQUIRE(f.store->compact(3, batch).ok());
  REQUIRE(f.engine->write(std::move(batch), false).ok());
  f.store->batch_written();

  StreamId s = *hub.open_stream();
  WatchRequest all;
  all.key = "";
  all.range_end = std::string(1, '\0');
  all.start_revision = 4;
  REQUIRE(hub.create(s, all).ok());
  WatchRequest old = all;
  old.start_revision = 2;  // compact - 1: refused
  REQUIRE(hub.create(s, old).ok());
  WatchRequest edge = all;
  edge.start_revision = 3;  // the compact revision: served, as etcd does
  auto edge_id = hub.create(s, edge);
  REQUIRE(edge_id.ok());
  for (int i = 0; i < 100 && hub.has_unsynced(); ++i) hub.sync_step(10);
  std::map<WatchId, std::vector<kv::Revision>> revisions;
  std::optional<Delivery> cancel;
  for (const auto& d : drain_all(hub, s)) {
    if (d.kind == Delivery::Kind::kEvents) {
      for (WatchId id : *d.watch_ids) revisions[id].push_back(d.events->revision);
    }
    if (d.kind == Delivery::Kind::kCancelled) cancel = d;
  }
  CHECK(revisions.size() == 2);
  CHECK(revisions[*edge_id] == std::vector<kv::Revision>{3, 4, 5, 6});
  REQUIRE(cancel);
  CHECK(cancel->reason == CancelReason::kCompacted);
  CHECK(cancel->revision == 3);
  CHECK(std::find(cancel->watch_ids->begin(), cancel->watch_ids->end(), *edge_id) == cancel->watch_ids->end());
}

}  // namespace
}  // namespace corral::watch
