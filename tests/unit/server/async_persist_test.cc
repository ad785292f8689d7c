// AsyncPersist: a leader's Ready goes to the storage writer; raft commits
// and hands out its entries only once the write is collected; anything that
// changes term or vote, or a snapshot, stays on the caller's thread; a full
// writer queue is drained and the write done inline.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/raft/raw_node.h"
#include "coordinator/server/async_persist.h"
#include "coordinator/storage/raft_log_store.h"
#include "tests/unit/server/gated_engine.h"

using namespace corral;
using corral::testing::GatedEngine;
using server::AsyncPersist;

namespace {

constexpr raft::NodeId kSelf = 1;
constexpr int kMaxSteps = 100;

// A one-voter member on a gated in-memory engine, handled as the node loop does.
struct Member {
  explicit Member(const std::string& tag, server::StorageWriterLimits limits = {}) : engine(tag) {
    auto opened = storage::RaftLogStore::open(&engine);
    REQUIRE(opened.ok());
    store = std::move(opened).value();
    storage::WriteBatch boot;
    store->stage_conf_state(boot, raft::ConfState{{kSelf}, {}});
    REQUIRE(engine.write(std::move(boot), true).ok());
    store->on_written();
    raft::Config rc;
    rc.id = kSelf;
    rc.storage = store.get();
    rc.async_storage_writes = true;
    raw = std::make_unique<raft::RawNode>(rc);
    persist = std::make_unique<AsyncPersist>(engine, *store, *raw, [] {}, limits);
  }
  ~Member() { persist.reset(); }

  bool leader() const { return raw->status().soft_state.role == raft::Role::kLeader; }

  // One Ready: off the thread when it may, else drained and written here.
  // Returns the data of the committed entries handed out.
  std::vector<std::string> handle(bool* went_off_loop = nullptr) {
    raft::Ready rd = raw->ready();
    const bool off = persist->takes(rd, leader());
    if (went_off_loop) *went_off_loop = off;
    if (off) {
      persist->submit(rd);
    } else {
      persist->drain();
      storage::WriteBatch b;
      REQUIRE(store->stage_append(b, rd.entries).ok());
      if (rd.hard_state) store->stage_hard_state(b, *rd.hard_state);
      REQUIRE(engine.write(std::move(b), rd.must_sync).ok());
      store->on_written();
      if (!rd.entries.empty()) raw->advance_append(rd.entries.back().index, rd.entries.back().term);
    }
    std::vector<std::string> applied;
    for (const auto& e : rd.committed_entries) applied.push_back(e.data);
    raw->advance();
    return applied;
  }

  // Becomes leader and applies its empty entry.
  void elect() {
    raw->campaign();
    for (int i = 0; i < kMaxSteps && (!leader() || raw->has_ready() || persist->in_flight() > 0); ++i) {
      persist->drain();
      if (raw->has_ready()) handle();
    }
    REQUIRE(leader());
    REQUIRE(persist->in_flight() == 0);
  }

  GatedEngine engine;
  std::unique_ptr<storage::RaftLogStore> store;
  std::unique_ptr<raft::RawNode> raw;
  std::unique_ptr<AsyncPersist> persist;
};

}  // namespace

TEST_CASE("async persist: a leader's entry is applied only after its write is collected", "[async_persist]") {
  Member m("apply-after-write");
  m.elect();
  const raft::Index before = m.store->last_index();
  m.engine.set_open(false);  // the writer holds the write at the gate
  REQUIRE(m.raw->propose("a") == raft::Status::kOk);
  bool off = false;
  CHECK(m.handle(&off).empty());
  CHECK(off);
  REQUIRE(m.engine.wait_entered(1 + static_cast<int>(m.engine.syncs().size())));
  CHECK(m.persist->in_flight() == 1);
  // Not durable: not committed, not in the store (raft holds it in memory).
  m.persist->collect();
  CHECK(m.store->last_index() == before);
  CHECK_FALSE(m.raw->has_ready());
  CHECK(m.raw->status().hard_state.commit == before);

  m.engine.set_open(true);
  m.persist->drain();
  CHECK(m.persist->in_flight() == 0);
  CHECK(m.store->last_index() == before + 1);
  CHECK(m.engine.syncs().back());
  REQUIRE(m.raw->has_ready());
  std::vector<std::string> applied;
  for (int i = 0; i < kMaxSteps && applied.empty() && m.raw->has_ready(); ++i) applied = m.handle();
  CHECK(applied == std::vector<std::string>{"a"});
}

TEST_CASE("async persist: a term or vote change, a snapshot or a follower stays synchronous", "[async_persist]") {
  Member m("sync-cases");
  m.elect();
  const raft::HardState hs = m.store->latest_hard_state();
  raft::Ready commit_only;
  commit_only.hard_state = raft::HardState{hs.term, hs.vote, hs.commit};
  CHECK(m.persist->takes(commit_only, true));
  CHECK_FALSE(m.persist->takes(commit_only, false));
  raft::Ready new_term;
  new_term.hard_state = raft::HardState{hs.term + 1, hs.vote, hs.commit};
  CHECK_FALSE(m.persist->takes(new_term, true));
  raft::Ready new_vote;
  new_vote.hard_state = raft::HardState{hs.term, hs.vote + 1, hs.commit};
  CHECK_FALSE(m.persist->takes(new_vote, true));
  raft::Ready snapshot;
  snapshot.snapshot = raft::Snapshot{};
  CHECK_FALSE(m.persist->takes(snapshot, true));
}

TEST_CASE("async persist: a full writer queue is drained and the write done inline, in order", "[async_persist]") {
  server::StorageWriterLimits one;
  one.max_batches = 1;
  Member m("full-queue", one);
  m.elect();
  const raft::Index before = m.store->last_index();
  const size_t writes_before = m.engine.syncs().size();
  m.engine.set_open(false);
  REQUIRE(m.raw->propose("a") == raft::Status::kOk);
  m.handle();
  REQUIRE(m.engine.wait_entered(static_cast<int>(writes_before) + 1));
  REQUIRE(m.raw->propose("b") == raft::Status::kOk);
  // The second write finds the queue full: submit drains, which needs the
  // gate open; a helper opens it once submit has been refused.
  std::atomic<bool> refused{false};
  std::thread opener([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (m.persist->queue_full_count() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    refused = m.persist->queue_full_count() == 1;
    m.engine.set_open(true);
  });
  m.handle();
  opener.join();
  CHECK(refused.load());
  CHECK(m.persist->in_flight() == 0);
  CHECK(m.store->last_index() == before + 2);
  const auto syncs = m.engine.syncs();
  // "a" by the writer (its write, then its run's sync), "b" inline, synced.
  REQUIRE(syncs.size() == writes_before + 3);
  CHECK_FALSE(syncs[writes_before]);
  CHECK(syncs[writes_before + 1]);
  CHECK(syncs[writes_before + 2]);
  std::vector<std::string> applied;
  for (int i = 0; i < kMaxSteps && applied.size() < 2 && m.raw->has_ready(); ++i) {
    for (auto& d : m.handle()) applied.push_back(d);
  }
  CHECK(applied == std::vector<std::string>{"a", "b"});
}
