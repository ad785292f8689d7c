#include "coordinator/watch/watch_hub.h"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "coordinator/watch/key_range.h"
#include "tests/unit/watch/memory_history.h"

namespace corral::watch {
namespace {

using testing::MemoryHistory;
using Ops = std::vector<std::pair<std::string, std::optional<std::string>>>;

// What one watch received, reassembled from its stream's deliveries.
struct Received {
  bool created = false;
  std::vector<kv::RevisionEvents> revisions;
  std::optional<Delivery> cancel;
  std::vector<kv::Revision> progress;
};
using Inbox = std::map<WatchId, Received>;

// Drains a stream completely into `inbox`, checking per-watch invariants
// that hold for every delivery: created first, nothing after a cancel.
void drain_into(WatchHub& hub, StreamId stream, Inbox& inbox, size_t chunk = 7) {
  for (int round = 0; round < 1'000'000; ++round) {
    auto out = hub.drain(stream, chunk);
    REQUIRE(out.ok());
    if (out->empty()) return;
    for (const auto& d : *out) {
      REQUIRE(d.watch_ids);
      REQUIRE(!d.watch_ids->empty());
      for (WatchId id : *d.watch_ids) {
        Received& r = inbox[id];
        REQUIRE(!r.cancel);
        switch (d.kind) {
          case Delivery::Kind::kCreated:
            REQUIRE(!r.created);
            r.created = true;
            break;
          case Delivery::Kind::kEvents:
            REQUIRE(r.created);
            REQUIRE(d.events);
            REQUIRE(d.events->revision == d.revision);
            REQUIRE(!d.events->events.empty());
            r.revisions.push_back(*d.events);
            break;
          case Delivery::Kind::kCancelled:
            REQUIRE(r.created);
            r.cancel = d;
            break;
          case Delivery::Kind::kProgress:
            REQUIRE(r.created);
            r.progress.push_back(d.revision);
            break;
        }
      }
    }
  }
  FAIL("drain did not finish");
}

// The filtered history a watch must see from `start` on.
std::vector<kv::RevisionEvents> expected(const std::vector<kv::RevisionEvents>& log,
                                         const WatchRequest& w, kv::Revision start) {
  std::vector<kv::RevisionEvents> out;
  for (const auto& rev : log) {
    if (rev.revision < start) continue;
    kv::RevisionEvents got{rev.revision, {}};
    for (const auto& e : rev.events) {
      if (!in_range(e.kv.key, w.key, w.range_end)) continue;
      if (e.type == kv::Event::Type::kPut && w.no_put) continue;
      if (e.type == kv::Event::Type::kDelete && w.no_delete) continue;
      kv::Event copy = e;
      if (!w.prev_kv) copy.prev_kv.reset();
      got.events.push_back(copy);
    }
    if (!got.events.empty()) out.push_back(got);
  }
  return out;
}

bool same(const std::vector<kv::RevisionEvents>& a, const std::vector<kv::RevisionEvents>& b,
          size_t count) {
  if (a.size() < count || b.size() < count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (a[i].revision != b[i].revision || a[i].events != b[i].events) return false;
  }
  return true;
}

WatchRequest key_watch(std::string key) {
  WatchRequest w;
  w.key = std::move(key);
  return w;
}

WatchRequest prefix_watch(std::string prefix) {
  WatchRequest w;
  w.key = prefix;
  w.range_end = prefix_end(prefix);
  return w;
}

struct Fixture {
  MemoryHistory history;
  std::unique_ptr<WatchHub> hub;
  std::vector<kv::RevisionEvents> log;

  explicit Fixture(HubOptions options = {}) {
    hub = std::make_unique<WatchHub>(history, options);
  }
  kv::Revision commit(const Ops& ops) {
    auto rev = history.commit(ops);
    log.push_back(rev);
    hub->on_commit(rev);
    return rev.revision;
  }
  StreamId stream() {
    auto s = hub->open_stream();
    REQUIRE(s.ok());
    return *s;
  }
  WatchId watch(StreamId s, const WatchRequest& w) {
    auto id = hub->create(s, w);
    REQUIRE(id.ok());
    return *id;
  }
  void sync_all() {
    for (int i = 0; i < 100'000 && hub->has_unsynced(); ++i) hub->sync_step(5);
    REQUIRE(!hub->has_unsynced());
  }
};

TEST_CASE("key_range: prefix_end and in_range follow etcd") {
  CHECK(prefix_end("a") == "b");
  CHECK(prefix_end("a\xff") == "b");
  CHECK(prefix_end("\xff\xff") == std::string(1, '\0'));
  CHECK(prefix_end("") == std::string(1, '\0'));
  CHECK(in_range("a", "a", ""));
  CHECK_FALSE(in_range("ab", "a", ""));
  CHECK(in_range("ab", "a", "b"));
  CHECK_FALSE(in_range("b", "a", "b"));
  CHECK(in_range("zzz", "b", std::string(1, '\0')));
  CHECK_FALSE(in_range("a", "b", std::string(1, '\0')));
}

TEST_CASE("watch: exact and prefix matching, one delivery per revision") {
  Fixture f;
  StreamId s = f.stream();
  WatchId exact = f.watch(s, key_watch("/apps/web"));
  WatchId prefix = f.watch(s, prefix_watch("/apps/"));
  WatchId other = f.watch(s, key_watch("/other"));

  f.commit({{"/apps/web", "1"}, {"/apps/db", "2"}, {"/apps", "3"}});
  f.commit({{"/apps/web/x", "4"}});
  Inbox inbox;
  drain_into(*f.hub, s, inbox);

  REQUIRE(inbox[exact].revisions.size() == 1);
  CHECK(inbox[exact].revisions[0].events.size() == 1);
  CHECK(inbox[exact].revisions[0].events[0].kv.key == "/apps/web");
  REQUIRE(inbox[prefix].revisions.size() == 2);
  REQUIRE(inbox[prefix].revisions[0].events.size() == 2);  // both in one delivery, in order
  CHECK(inbox[prefix].revisions[0].events[0].kv.key == "/apps/web");
  CHECK(inbox[prefix].revisions[0].events[1].kv.key == "/apps/db");
  CHECK(inbox[prefix].revisions[1].events[0].kv.key == "/apps/web/x");
  CHECK(inbox[other].created);
  CHECK(inbox[other].revisions.empty());
}

TEST_CASE("watch: take_ready lists each stream with new output once") {
  Fixture f;
  StreamId a = f.stream();
  StreamId b = f.stream();
  StreamId c = f.stream();
  f.watch(a, key_watch("k"));
  f.watch(b, key_watch("k"));
  f.watch(c, key_watch("other"));
  CHECK(f.hub->take_ready() == std::vector<StreamId>{a, b, c});
  CHECK(f.hub->take_ready().empty());
  f.commit({{"k", "1"}});
  f.commit({{"k", "2"}});
  CHECK(f.hub->take_ready() == std::vector<StreamId>{a, b});
  CHECK(f.hub->queued(a) == 3);  // created + two revisions, nothing drained yet
  REQUIRE(f.hub->close_stream(b).ok());
  f.commit({{"k", "3"}});
  CHECK(f.hub->take_ready() == std::vector<StreamId>{a});
  CHECK(f.hub->queued(a) == 4);
}

TEST_CASE("watch: range and from-key watches") {
  Fixture f;
  StreamId s = f.stream();
  WatchRequest range;
  range.key = "b";
  range.range_end = "d";
  WatchRequest from_key;
  from_key.key = "c";
  from_key.range_end = std::string(1, '\0');
  WatchRequest all;
  all.key = "";
  all.range_end = std::string(1, '\0');
  WatchId r = f.watch(s, range);
  WatchId fk = f.watch(s, from_key);
  WatchId everything = f.watch(s, all);
  f.commit({{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}});
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  auto keys = [&](WatchId id) {
    std::vector<std::string> out;
    for (const auto& rev : inbox[id].revisions)
      for (const auto& e : rev.events) out.push_back(e.kv.key);
    return out;
  };
  CHECK(keys(r) == std::vector<std::string>{"b", "c"});
  CHECK(keys(fk) == std::vector<std::string>{"c", "d"});
  CHECK(keys(everything) == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("watch: prev_kv and filters") {
  Fixture f;
  StreamId s = f.stream();
  f.commit({{"k", "old"}});
  WatchRequest with_prev = key_watch("k");
  with_prev.prev_kv = true;
  WatchRequest no_put = key_watch("k");
  no_put.no_put = true;
  WatchRequest no_delete = key_watch("k");
  no_delete.no_delete = true;
  WatchId wp = f.watch(s, with_prev);
  WatchId wnp = f.watch(s, no_put);
  WatchId wnd = f.watch(s, no_delete);
  WatchId plain = f.watch(s, key_watch("k"));
  f.commit({{"k", "new"}});
  f.commit({{"k", std::nullopt}});
  Inbox inbox;
  drain_into(*f.hub, s, inbox);

  REQUIRE(inbox[wp].revisions.size() == 2);
  REQUIRE(inbox[wp].revisions[0].events[0].prev_kv);
  CHECK(inbox[wp].revisions[0].events[0].prev_kv->value == "old");
  CHECK(inbox[wp].revisions[1].events[0].prev_kv->value == "new");
  REQUIRE(inbox[plain].revisions.size() == 2);
  CHECK_FALSE(inbox[plain].revisions[0].events[0].prev_kv);
  REQUIRE(inbox[wnp].revisions.size() == 1);
  CHECK(inbox[wnp].revisions[0].events[0].type == kv::Event::Type::kDelete);
  REQUIRE(inbox[wnd].revisions.size() == 1);
  CHECK(inbox[wnd].revisions[0].events[0].type == kv::Event::Type::kPut);
}

// A store that does not read the overwritten record for every put
// (kv::MvccStore::set_prev_kv_in_events) hands the hub put events without
// prev_kv: the hub reads it once per event, and only for watchers that asked.
TEST_CASE("watch: a put event without its prev_kv gets it read for the watchers that want it") {
  Fixture f;
  StreamId s = f.stream();
  f.commit({{"k", "old"}});
  WatchRequest with_prev = key_watch("k");
  with_prev.prev_kv = true;
  WatchId wp = f.watch(s, with_prev);
  WatchId wp2 = f.watch(s, with_prev);
  WatchId plain = f.watch(s, key_watch("k"));
  WatchRequest j_with_prev = key_watch("j");
  j_with_prev.prev_kv = true;
  WatchId wj = f.watch(s, j_with_prev);
  auto bare = [&](const Ops& ops) {
    auto rev = f.history.commit(ops);
    for (auto& e : rev.events) e.prev_kv.reset();
    f.hub->on_commit(rev);
  };
  bare({{"k", "new"}});
  CHECK(f.history.previous_reads() == 1);  // one read for both prev_kv watchers
  bare({{"j", "created"}});                 // created: nothing overwritten, nothing read
  CHECK(f.history.previous_reads() == 1);
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  REQUIRE(inbox[wj].revisions.size() == 1);
  CHECK_FALSE(inbox[wj].revisions[0].events[0].prev_kv);
  for (WatchId w : {wp, wp2}) {
    REQUIRE(inbox[w].revisions.size() == 1);
    REQUIRE(inbox[w].revisions[0].events[0].prev_kv);
    CHECK(inbox[w].revisions[0].events[0].prev_kv->value == "old");
  }
  REQUIRE(inbox[plain].revisions.size() == 1);
  CHECK_FALSE(inbox[plain].revisions[0].events[0].prev_kv);
}

TEST_CASE("watch: bad requests and bounds change nothing") {
  HubOptions options;
  options.max_streams = 2;
  options.max_watchers_per_stream = 2;
  Fixture f(options);
  StreamId s = f.stream();
  f.stream();
  CHECK(f.hub->open_stream().error().code == ErrorCode::kTooLarge);
  CHECK(f.hub->create(s, WatchRequest{}).error().code == ErrorCode::kBadRequest);
  WatchRequest backwards;
  backwards.key = "b";
  backwards.range_end = "a";
  CHECK(f.hub->create(s, backwards).error().code == ErrorCode::kBadRequest);
  WatchRequest negative = key_watch("a");
  negative.start_revision = -1;
  CHECK(f.hub->create(s, negative).error().code == ErrorCode::kBadRequest);
  CHECK(f.hub->create(s, key_watch(std::string(kMaxWatchKeyBytes + 1, 'x'))).error().code ==
        ErrorCode::kTooLarge);
  CHECK(f.hub->create(999, key_watch("a")).error().code == ErrorCode::kNotFound);
  CHECK(f.hub->drain(s, 10)->empty());  // the rejected creates queued nothing

  f.watch(s, key_watch("a"));
  f.watch(s, key_watch("b"));
  CHECK(f.hub->create(s, key_watch("c")).error().code == ErrorCode::kTooLarge);
  CHECK(f.hub->cancel(s, 12345).error().code == ErrorCode::kNotFound);
  CHECK(f.hub->stats().synced == 2);
}

TEST_CASE("watch: cancel stops delivery after what was queued, close_stream frees all") {
  Fixture f;
  StreamId s = f.stream();
  WatchId a = f.watch(s, key_watch("a"));
  WatchId b = f.watch(s, key_watch("a"));
  f.commit({{"a", "1"}});
  REQUIRE(f.hub->cancel(s, a).ok());
  f.commit({{"a", "2"}});
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[a].revisions.size() == 1);
  REQUIRE(inbox[a].cancel);
  CHECK(inbox[a].cancel->reason == CancelReason::kRequested);
  CHECK(inbox[b].revisions.size() == 2);

  REQUIRE(f.hub->close_stream(s).ok());
  CHECK(f.hub->stats().synced == 0);
  CHECK(f.hub->stats().groups == 0);
  CHECK(f.hub->drain(s, 1).error().code == ErrorCode::kNotFound);
  f.commit({{"a", "3"}});  // no watcher left: nothing to do, nothing breaks
}

TEST_CASE("watch: start in the past catches up, then continues live with no gap or duplicate") {
  Fixture f;
  for (int i = 0; i < 20; ++i) f.commit({{"/p/" + std::to_string(i % 3), std::to_string(i)}});
  StreamId s = f.stream();
  WatchRequest w = prefix_watch("/p/");
  w.start_revision = 5;
  WatchId id = f.watch(s, w);
  CHECK(f.hub->stats().unsynced == 1);
  // Live revisions arrive while the watcher is still behind.
  f.hub->sync_step(3);
  f.commit({{"/p/x", "live1"}});
  f.hub->sync_step(4);
  f.commit({{"/p/y", "live2"}});
  f.sync_all();
  f.commit({{"/p/z", "live3"}});
  CHECK(f.hub->stats().synced == 1);
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  auto want = expected(f.log, w, 5);
  REQUIRE(inbox[id].revisions.size() == want.size());
  CHECK(same(inbox[id].revisions, want, want.size()));
}

TEST_CASE("watch: future start revision waits for it") {
  Fixture f;
  f.commit({{"k", "1"}});
  StreamId s = f.stream();
  WatchRequest w = key_watch("k");
  w.start_revision = 4;
  WatchId id = f.watch(s, w);
  CHECK(f.hub->stats().future == 1);
  f.commit({{"k", "2"}});
  f.commit({{"k", "3"}});
  f.commit({{"k", "4"}});
  f.commit({{"k", "5"}});
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  REQUIRE(inbox[id].revisions.size() == 2);
  CHECK(inbox[id].revisions[0].revision == 4);
  CHECK(inbox[id].revisions[1].revision == 5);
}

TEST_CASE("watch: a compacted start revision is cancelled with the compact revision") {
  Fixture f;
  for (int i = 0; i < 10; ++i) f.commit({{"k", std::to_string(i)}});
  f.history.compact(6);
  StreamId s = f.stream();
  WatchRequest w = key_watch("k");
  w.start_revision = 3;
  WatchId id = f.watch(s, w);
  WatchRequest ok = key_watch("k");
  ok.start_revision = 7;
  WatchId fine = f.watch(s, ok);
  f.sync_all();
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[id].created);
  REQUIRE(inbox[id].cancel);
  CHECK(inbox[id].cancel->reason == CancelReason::kCompacted);
  CHECK(inbox[id].cancel->revision == 6);
  CHECK(inbox[id].revisions.empty());
  CHECK_FALSE(inbox[fine].cancel);
  CHECK(inbox[fine].revisions.size() == 4);
}

// etcd's boundary: a watch from r is refused only if r < the compact revision.
TEST_CASE("watch: the compact revision itself is served, the one below it is refused") {
  Fixture f;
  for (int i = 0; i < 10; ++i) f.commit({{"k", std::to_string(i)}});
  f.history.compact(6);
  StreamId s = f.stream();
  WatchRequest below = key_watch("k");
  below.start_revision = 5;
  WatchId refused = f.watch(s, below);
  WatchRequest edge = key_watch("k");
  edge.start_revision = 6;
  WatchId at_compact = f.watch(s, edge);
  f.sync_all();
  f.commit({{"k", "live"}});  // 11
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  REQUIRE(inbox[refused].cancel);
  CHECK(inbox[refused].cancel->reason == CancelReason::kCompacted);
  CHECK(inbox[refused].cancel->revision == 6);
  CHECK(inbox[refused].revisions.empty());
  CHECK_FALSE(inbox[at_compact].cancel);
  std::vector<kv::Revision> got;
  for (const auto& r : inbox[at_compact].revisions) got.push_back(r.revision);
  CHECK(got == std::vector<kv::Revision>{6, 7, 8, 9, 10, 11});
  REQUIRE_FALSE(inbox[at_compact].revisions.empty());
  CHECK(inbox[at_compact].revisions[0].events.at(0).kv.value == "5");
}

TEST_CASE("watch: compaction during catch-up cancels with the compact revision") {
  Fixture f;
  for (int i = 0; i < 30; ++i) f.commit({{"k", std::to_string(i)}});
  StreamId s = f.stream();
  WatchRequest w = key_watch("k");
  w.start_revision = 1;
  WatchId id = f.watch(s, w);
  f.hub->sync_step(5);
  f.history.compact(20);
  f.sync_all();
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[id].revisions.size() == 5);
  REQUIRE(inbox[id].cancel);
  CHECK(inbox[id].cancel->reason == CancelReason::kCompacted);
  CHECK(inbox[id].cancel->revision == 20);
}

TEST_CASE("watch: a slow stream is cancelled with an explicit error, other streams go on") {
  HubOptions options;
  options.max_queued_deliveries_per_stream = 5;
  Fixture f(options);
  StreamId slow = f.stream();
  StreamId fast = f.stream();
  WatchId s1 = f.watch(slow, key_watch("k"));
  WatchId s2 = f.watch(slow, prefix_watch("j"));
  WatchId ok = f.watch(fast, key_watch("k"));
  Inbox fast_inbox;
  for (int i = 0; i < 10; ++i) {
    f.commit({{"k", std::to_string(i)}});
    drain_into(*f.hub, fast, fast_inbox);
  }
  // Two created, events until the bound; then both watches cancelled and
  // the queued events dropped: the stream holds the creates and the cancel.
  CHECK(f.hub->queued(slow) == 3);
  Inbox inbox;
  drain_into(*f.hub, slow, inbox);
  CHECK(inbox[s1].revisions.empty());
  REQUIRE(inbox[s1].cancel);
  CHECK(inbox[s1].cancel->reason == CancelReason::kSlowWatcher);
  REQUIRE(inbox[s2].cancel);
  CHECK(inbox[s2].cancel->reason == CancelReason::kSlowWatcher);
  for (size_t i = 0; i < inbox[s1].revisions.size(); ++i) {
    CHECK(inbox[s1].revisions[i].revision == static_cast<kv::Revision>(i + 1));
  }
  CHECK(fast_inbox[ok].revisions.size() == 10);
  CHECK_FALSE(fast_inbox[ok].cancel);
  CHECK(f.hub->stats().synced == 1);
}

TEST_CASE("watch: pop hands out one item at a time, a stream never popped stays bounded") {
  HubOptions options;
  options.max_queued_bytes_per_stream = 64 * 1024;
  Fixture f(options);
  StreamId reader = f.stream();
  StreamId stalled = f.stream();
  WatchId r = f.watch(reader, key_watch("k"));
  WatchId st = f.watch(stalled, key_watch("k"));
  CHECK_FALSE(f.hub->pop(12345));  // unknown stream: nothing
  const std::string big(10 * 1024, 'x');
  std::vector<kv::Revision> seen;
  for (int i = 0; i < 40; ++i) {
    f.commit({{"k", big}});
    // The reader pops everything, one item at a time, in order.
    while (auto d = f.hub->pop(reader)) {
      REQUIRE(d->watch_ids);
      CHECK((*d->watch_ids)[0] == r);
      if (d->kind == Delivery::Kind::kEvents) seen.push_back(d->revision);
    }
    CHECK(f.hub->queued(reader) == 0);
  }
  REQUIRE(seen.size() == 40);
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] == seen[i - 1] + 1);
  // The stalled stream passed 64 KiB after a few revisions: cancelled, its
  // events dropped, only its create and the cancel left.
  CHECK(f.hub->queued(stalled) == 2);
  auto created = f.hub->pop(stalled);
  REQUIRE(created);
  CHECK(created->kind == Delivery::Kind::kCreated);
  auto cancel = f.hub->pop(stalled);
  REQUIRE(cancel);
  CHECK(cancel->kind == Delivery::Kind::kCancelled);
  CHECK(cancel->reason == CancelReason::kSlowWatcher);
  CHECK((*cancel->watch_ids)[0] == st);
  CHECK_FALSE(f.hub->pop(stalled));
}

TEST_CASE("watch: catch-up waits for a slow reader instead of cancelling it") {
  HubOptions options;
  options.max_queued_deliveries_per_stream = 8;
  Fixture f(options);
  for (int i = 0; i < 40; ++i) f.commit({{"k", std::to_string(i)}});
  StreamId s = f.stream();
  WatchRequest w = key_watch("k");
  w.start_revision = 1;
  WatchId id = f.watch(s, w);
  Inbox inbox;
  for (int i = 0; i < 1000 && f.hub->has_unsynced(); ++i) {
    f.hub->sync_step(100);
    drain_into(*f.hub, s, inbox, 3);
  }
  drain_into(*f.hub, s, inbox);
  CHECK_FALSE(inbox[id].cancel);
  CHECK(inbox[id].revisions.size() == 40);
}

TEST_CASE("watch: progress on request and periodically") {
  HubOptions options;
  options.progress_interval_ms = 1000;
  Fixture f(options);
  f.commit({{"x", "1"}});
  StreamId s = f.stream();
  WatchRequest notify = key_watch("k");
  notify.progress_notify = true;
  WatchId n = f.watch(s, notify);
  WatchId quiet = f.watch(s, key_watch("k"));
  WatchRequest behind = key_watch("x");
  behind.start_revision = 1;
  WatchId unsynced = f.watch(s, behind);
  f.commit({{"y", "2"}});

  REQUIRE(f.hub->request_progress(s).ok());
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[n].progress == std::vector<kv::Revision>{2});
  CHECK(inbox[quiet].progress == std::vector<kv::Revision>{2});
  CHECK(inbox[unsynced].progress.empty());  // cannot claim revision 2 before catching up

  f.hub->tick(10'000);
  f.hub->tick(10'500);
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[n].progress.size() == 1);
  f.hub->tick(11'000);
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[n].progress == std::vector<kv::Revision>{2, 2});
  CHECK(inbox[quiet].progress.size() == 1);
  // An undrained stream gets no pile of progress messages.
  f.hub->tick(12'000);
  f.hub->tick(13'000);
  f.hub->tick(14'000);
  drain_into(*f.hub, s, inbox);
  CHECK(inbox[n].progress.size() == 3);
  CHECK(f.hub->request_progress(777).error().code == ErrorCode::kNotFound);
}

TEST_CASE("watch: 10,000 watchers on one prefix share one match and one batch") {
  Fixture f;
  constexpr int kStreams = 10;
  constexpr int kPerStream = 1000;
  std::vector<StreamId> streams;
  for (int i = 0; i < kStreams; ++i) {
    StreamId s = f.stream();
    streams.push_back(s);
    for (int j = 0; j < kPerStream; ++j) f.watch(s, prefix_watch("/corral/agents/"));
    f.hub->drain(s, kPerStream);  // the created notices
  }
  CHECK(f.hub->stats().groups == 1);
  f.commit({{"/corral/agents/a1", "v"}, {"/corral/agents/a2", "v"}});
  CHECK(f.hub->stats().group_matches == 2);
  CHECK(f.hub->stats().batches_built == 1);
  const kv::RevisionEvents* batch = nullptr;
  size_t delivered = 0;
  for (StreamId s : streams) {
    auto out = f.hub->drain(s, 100);
    REQUIRE(out.ok());
    REQUIRE(out->size() == 1);
    const Delivery& d = out->front();
    REQUIRE(d.kind == Delivery::Kind::kEvents);
    if (!batch) batch = d.events.get();
    CHECK(d.events.get() == batch);
    CHECK(d.events->events.size() == 2);
    delivered += d.watch_ids->size();
  }
  CHECK(delivered == kStreams * kPerStream);
}

TEST_CASE("watch: restore makes synced watchers catch up from where they were") {
  Fixture f;
  f.commit({{"k", "1"}});
  StreamId s = f.stream();
  WatchId id = f.watch(s, key_watch("k"));
  // The key space moves on without this hub (a snapshot install).
  for (int i = 0; i < 5; ++i) f.log.push_back(f.history.commit({{"k", "s" + std::to_string(i)}}));
  f.hub->on_restore();
  CHECK(f.hub->stats().unsynced == 1);
  f.sync_all();
  f.commit({{"k", "live"}});
  Inbox inbox;
  drain_into(*f.hub, s, inbox);
  auto want = expected(f.log, key_watch("k"), 2);
  REQUIRE(inbox[id].revisions.size() == 6);
  CHECK(same(inbox[id].revisions, want, 6));
}

// Model test: random commits, watch creations at random start revisions,
// random sync steps, partial drains and cancels. Every watch must receive
// exactly the filtered history from its start (or a prefix of it followed by
// an explicit cancel).
TEST_CASE("watch: model test against the filtered history") {
  const std::vector<std::string> keys = {"a", "ab", "abc", "b", "b/x", "b/y", "c", "\xff"};
  std::map<CancelReason, int> cancels;
  int complete = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    HubOptions options;
    options.max_queued_deliveries_per_stream = seed % 4 == 0 ? 6 : 100'000;
    Fixture f(options);
    std::vector<StreamId> streams = {f.stream(), f.stream(), f.stream()};
    struct Made {
      StreamId stream;
      WatchRequest request;
      kv::Revision start;
      bool cancelled_by_us = false;
    };
    std::map<std::pair<StreamId, WatchId>, Made> made;
    std::map<StreamId, Inbox> inboxes;

    for (int step = 0; step < 300; ++step) {
      switch (pick(6)) {
        case 0:
        case 1: {
          Ops ops;
          size_t n = 1 + pick(3);
          for (size_t i = 0; i < n; ++i) {
            const std::string& k = keys[pick(keys.size())];
            if (pick(3) == 0) ops.emplace_back(k, std::nullopt);
            else ops.emplace_back(k, "v" + std::to_string(step));
          }
          f.commit(ops);
          break;
        }
        case 2: {
          WatchRequest w;
          switch (pick(4)) {
            case 0: w.key = keys[pick(keys.size())]; break;
            case 1: w = prefix_watch(keys[pick(keys.size())]); break;
            case 2:
              w.key = keys[pick(keys.size())];
              w.range_end = std::string(1, '\0');
              break;
            default:
              w.key = "ab";
              w.range_end = "b/y";
          }
          w.prev_kv = pick(2);
          w.no_put = pick(5) == 0;
          w.no_delete = pick(5) == 0;
          kv::Revision current = f.hub->current_revision();
          w.start_revision = pick(3) == 0 ? 0 : static_cast<kv::Revision>(pick(current + 4));
          if (pick(10) == 0) f.history.compact(std::max<kv::Revision>(1, current / 3));
          StreamId s = streams[pick(streams.size())];
          auto id = f.hub->create(s, w);
          REQUIRE(id.ok());
          kv::Revision start = w.start_revision == 0 ? current + 1 : w.start_revision;
          made[{s, *id}] = Made{s, w, start};
          break;
        }
        case 3: f.hub->sync_step(1 + pick(6)); break;
        case 4: {
          StreamId s = streams[pick(streams.size())];
          drain_into(*f.hub, s, inboxes[s], 1 + pick(5));
          break;
        }
        default: {
          if (made.empty()) break;
          auto it = made.begin();
          std::advance(it, pick(made.size()));
          if (!it->second.cancelled_by_us &&
              !inboxes[it->first.first][it->first.second].cancel &&
              f.hub->cancel(it->first.first, it->first.second).ok()) {
            it->second.cancelled_by_us = true;
          }
        }
      }
    }
    for (int i = 0; i < 100'000 && f.hub->has_unsynced(); ++i) {
      f.hub->sync_step(5);
      for (StreamId s : streams) drain_into(*f.hub, s, inboxes[s]);
    }
    REQUIRE(!f.hub->has_unsynced());
    for (StreamId s : streams) drain_into(*f.hub, s, inboxes[s]);

    for (const auto& [ref, m] : made) {
      INFO("watch " << ref.second << " on stream " << ref.first << " from " << m.start << " key '"
                    << m.request.key << "'");
      const Received& got = inboxes[ref.first][ref.second];
      REQUIRE(got.created);
      auto want = expected(f.log, m.request, m.start);
      if (!got.cancel) {
        REQUIRE_FALSE(m.cancelled_by_us);
        REQUIRE(got.revisions.size() == want.size());
        REQUIRE(same(got.revisions, want, want.size()));
        ++complete;
        continue;
      }
      ++cancels[got.cancel->reason];
      switch (got.cancel->reason) {
        case CancelReason::kRequested: REQUIRE(m.cancelled_by_us); break;
        case CancelReason::kSlowWatcher: REQUIRE(options.max_queued_deliveries_per_stream == 6); break;
        case CancelReason::kCompacted:
          REQUIRE(m.start <= got.cancel->revision);
          break;
        case CancelReason::kHistoryError: FAIL("history error"); break;
      }
      REQUIRE(same(got.revisions, want, got.revisions.size()));
    }
  }
  // The seeds reach every path: complete histories and each kind of cancel.
  CHECK(complete > 100);
  CHECK(cancels[CancelReason::kRequested] > 0);
  CHECK(cancels[CancelReason::kSlowWatcher] > 0);
  CHECK(cancels[CancelReason::kCompacted] > 0);
}

}  // namespace
}  // namespace corral::watch
