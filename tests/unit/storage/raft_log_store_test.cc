#include "coordinator/storage/raft_log_store.h"

#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "coordinator/raft/memory_storage.h"
#include "tests/unit/storage/temp_dir.h"

namespace corral::storage {
namespace {

using testing::TempDir;
using raft::Entry;
using raft::Index;
using raft::Term;

constexpr uint64_t kNoLimit = UINT64_MAX;

Entry entry(Index index, Term term, std::string data = {}) {
  if (data.empty()) data = "e" + std::to_string(index) + "t" + std::to_string(term);
  return Entry{term, index, raft::EntryType::kNormal, std::move(data)};
}

std::vector<Entry> run(Index from, Index to, Term term) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) out.push_back(entry(i, term));
  return out;
}

// A member's disk: an engine on a temp dir plus the store on it, reopenable.
class Disk {
 public:
  // sync=false keeps long randomized runs fast; reopening still sees every
  // write (it is in the WAL), only a machine crash could lose it.
  explicit Disk(uint64_t cache_bytes = kDefaultLogCacheBytes, bool sync = true)
      : cache_bytes_(cache_bytes), sync_(sync) {
    reopen();
  }

  void reopen() {
    store_.reset();
    engine_.reset();
    EngineOptions options;
    options.path = dir_.sub("db");
    auto engine = Engine::open(options);
    REQUIRE(engine.ok());
    engine_ = std::move(engine).value();
    auto store = RaftLogStore::open(engine_.get(), RaftLogStoreOptions{cache_bytes_});
    INFO((store.ok() ? std::string() : store.error().message));
    REQUIRE(store.ok());
    store_ = std::move(store).value();
  }

  // Stages with `stage`, writes with sync, publishes. Returns stage's status.
  template <typename Stage>
  corral::Status commit(Stage&& stage) {
    WriteBatch batch;
    corral::Status s = stage(*store_, batch);
    auto written = engine_->write(std::move(batch), sync_);
    REQUIRE(written.ok());
    store_->on_written();
    return s;
  }

  corral::Status append(const std::vector<Entry>& entries) {
    return commit([&](RaftLogStore& st, WriteBatch& b) { return st.stage_append(b, entries); });
  }
  corral::Status compact(Index index) {
    return commit([&](RaftLogStore& st, WriteBatch& b) { return st.stage_compact(b, index); });
  }

  RaftLogStore& store() { return *store_; }
  Engine& engine() { return *engine_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  uint64_t cache_bytes_;
  bool sync_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RaftLogStore> store_;
};

std::vector<Entry> entries_of(const raft::LogStorage& s, Index lo, Index hi,
                              uint64_t max_bytes = kNoLimit) {
  auto r = s.entries(lo, hi, max_bytes);
  REQUIRE(r.ok());
  return r.value();
}

Term term_of(const raft::LogStorage& s, Index i) {
  auto t = s.term(i);
  REQUIRE(t.ok());
  return t.value();
}

size_t keys_in_log(const Engine& engine) {
  size_t n = 0;
  for (auto it = engine.scan(Space::kRaftLog, "", ""); it->valid(); it->next()) ++n;
  return n;
}

raft::Status as_raft_status(const corral::Status& s) {
  if (s.ok()) return raft::Status::kOk;
  switch (s.error().code) {
    case ErrorCode::kCompacted: return raft::Status::kCompacted;
    case ErrorCode::kUnavailable: return raft::Status::kUnavailable;
    default: FAIL("unexpected error " << s.error().message); return raft::Status::kOk;
  }
}

}  // namespace

TEST_CASE("log key: 8 bytes big-endian, sorts by index", "[raft_log_store]") {
  CHECK(log_key(0x0102030405060708ull) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  CHECK(log_key(255) < log_key(256));
  CHECK(parse_log_key(log_key(123456789)) == 123456789u);
  CHECK(parse_log_key("short") == std::nullopt);
}

TEST_CASE("log store: empty store", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  CHECK(s.first_index() == 1);
  CHECK(s.last_index() == 0);
  CHECK(term_of(s, 0) == 0);
  CHECK(s.term(1).status() == raft::Status::kUnavailable);
  CHECK(s.entries(1, 1, kNoLimit).ok());
  CHECK(s.entries(1, 2, kNoLimit).status() == raft::Status::kUnavailable);
  CHECK(s.entries(0, 1, kNoLimit).status() == raft::Status::kCompacted);
  CHECK(s.initial_state().hard_state.empty());
  auto snap = s.snapshot();
  REQUIRE(snap.ok());
  CHECK(snap.value().empty());
}

TEST_CASE("log store: append, read and overwrite a conflicting suffix", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 10, 1)).ok());
  CHECK(s.first_index() == 1);
  CHECK(s.last_index() == 10);
  CHECK(entries_of(s, 1, 11) == run(1, 10, 1));
  CHECK(term_of(s, 10) == 1);

  // A new leader at term 2 replaces 6..10 with 6..7.
  REQUIRE(disk.append(run(6, 7, 2)).ok());
  CHECK(s.last_index() == 7);
  CHECK(term_of(s, 5) == 1);
  CHECK(term_of(s, 6) == 2);
  CHECK(s.term(8).status() == raft::Status::kUnavailable);
  CHECK(s.entries(1, 9, kNoLimit).status() == raft::Status::kUnavailable);
  std::vector<Entry> expected = run(1, 5, 1);
  for (auto& e : run(6, 7, 2)) expected.push_back(e);
  CHECK(entries_of(s, 1, 8) == expected);
  CHECK(keys_in_log(disk.engine()) == 7);  // 8..10 deleted on disk too

  // Appending the same entries again changes nothing; extending works.
  REQUIRE(disk.append(run(6, 7, 2)).ok());
  REQUIRE(disk.append(run(8, 9, 3)).ok());
  CHECK(s.last_index() == 9);
  CHECK(term_of(s, 9) == 3);

  disk.reopen();
  auto& r = disk.store();
  CHECK(r.last_index() == 9);
  CHECK(term_of(r, 7) == 2);
  CHECK(term_of(r, 8) == 3);
  CHECK(entries_of(r, 1, 8) == expected);
}

TEST_CASE("log store: bad appends are typed errors and change nothing", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 5, 1)).ok());

  WriteBatch batch;
  auto gap = s.stage_append(batch, run(7, 8, 1));
  REQUIRE_FALSE(gap.ok());
  CHECK(gap.error().code == ErrorCode::kUnavailable);
  std::vector<Entry> holes = {entry(6, 1), entry(8, 1)};
  auto not_consecutive = s.stage_append(batch, holes);
  REQUIRE_FALSE(not_consecutive.ok());
  CHECK(not_consecutive.error().code == ErrorCode::kUnavailable);
  CHECK(batch.empty());
  CHECK_FALSE(s.has_staged());
  CHECK(s.last_index() == 5);

  // Entries below the first index are skipped, the rest appended.
  REQUIRE(disk.compact(3).ok());
  REQUIRE(disk.append(run(2, 6, 1)).ok());
  CHECK(s.first_index() == 4);
  CHECK(s.last_index() == 6);
  REQUIRE(disk.append(run(1, 2, 1)).ok());  // entirely compacted: no-op
  CHECK(s.last_index() == 6);
}

TEST_CASE("log store: staged changes are invisible until written", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 3, 1)).ok());

  WriteBatch batch;
  REQUIRE(s.stage_append(batch, run(4, 6, 2)).ok());
  s.stage_hard_state(batch, raft::HardState{2, 1, 5});
  CHECK(s.has_staged());
  CHECK(s.last_index() == 3);
  CHECK(s.initial_state().hard_state.empty());
  // A second stage builds on the first.
  REQUIRE(s.stage_compact(batch, 5).ok());
  CHECK(s.first_index() == 1);

  s.abandon_staged();
  CHECK_FALSE(s.has_staged());
  CHECK(s.last_index() == 3);

  WriteBatch real;
  REQUIRE(s.stage_append(real, run(4, 6, 2)).ok());
  s.stage_hard_state(real, raft::HardState{2, 1, 5});
  REQUIRE(s.stage_compact(real, 5).ok());
  REQUIRE(disk.engine().write(std::move(real), true).ok());
  s.on_written();
  CHECK(s.first_index() == 6);
  CHECK(s.last_index() == 6);
  CHECK(term_of(s, 5) == 2);
  CHECK(s.initial_state().hard_state == raft::HardState{2, 1, 5});
}

TEST_CASE("log store: sealed writes in flight become visible in order", "[raft_log_store]") {
  Disk disk(/*cache_bytes=*/1 << 20);
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 3, 1)).ok());

  // Two writes sealed back to back (a writer thread holds them): the second
  // builds on the first, nothing is visible yet.
  WriteBatch first;
  REQUIRE(s.stage_append(first, run(4, 5, 2)).ok());
  s.stage_hard_state(first, raft::HardState{2, 1, 3});
  REQUIRE(s.seal_staged());
  CHECK_FALSE(s.has_staged());
  WriteBatch second;
  REQUIRE(s.stage_append(second, run(6, 7, 2)).ok());
  s.stage_hard_state(second, raft::HardState{2, 1, 5});
  REQUIRE(s.seal_staged());
  CHECK_FALSE(s.seal_staged());  // nothing staged
  CHECK(s.sealed_in_flight() == 2);
  CHECK(s.latest_hard_state() == raft::HardState{2, 1, 5});
  CHECK(s.last_index() == 3);
  CHECK(s.initial_state().hard_state.empty());
  // A gap is measured against the sealed writes, not the visible log.
  WriteBatch gap;
  CHECK_FALSE(s.stage_append(gap, run(9, 9, 2)).ok());

  REQUIRE(disk.engine().write(std::move(first), false).ok());
  s.on_sealed_written();
  CHECK(s.last_index() == 5);
  CHECK(term_of(s, 5) == 2);
  CHECK(entries_of(s, 4, 6).size() == 2);
  CHECK(s.initial_state().hard_state == raft::HardState{2, 1, 3});
  CHECK(s.sealed_in_flight() == 1);

  // Staging on top of a write still in flight, sealed after it.
  WriteBatch third;
  REQUIRE(s.stage_append(third, run(8, 8, 2)).ok());
  REQUIRE(s.seal_staged());
  REQUIRE(disk.engine().write(std::move(second), false).ok());
  s.on_sealed_written();
  CHECK(s.last_index() == 7);
  REQUIRE(disk.engine().write(std::move(third), true).ok());
  s.on_sealed_written();
  CHECK(s.last_index() == 8);
  CHECK(s.sealed_in_flight() == 0);
  CHECK(entries_of(s, 1, 9).size() == 8);
  CHECK(s.initial_state().hard_state == raft::HardState{2, 1, 5});

  // What the disk holds is what was made visible.
  disk.reopen();
  CHECK(disk.store().last_index() == 8);
  CHECK(disk.store().initial_state().hard_state == raft::HardState{2, 1, 5});
  CHECK(entries_of(disk.store(), 1, 9).size() == 8);
}

TEST_CASE("log store: a sealed write survives a conflicting append staged after it", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 2, 1)).ok());
  WriteBatch old_leader;
  REQUIRE(s.stage_append(old_leader, run(3, 6, 1)).ok());
  REQUIRE(s.seal_staged());
  // A new leader's entries overwrite from 5 on, staged on top of the write in flight.
  WriteBatch new_leader;
  REQUIRE(s.stage_append(new_leader, run(5, 5, 2)).ok());
  REQUIRE(s.seal_staged());
  REQUIRE(disk.engine().write(std::move(old_leader), true).ok());
  s.on_sealed_written();
  CHECK(s.last_index() == 6);
  REQUIRE(disk.engine().write(std::move(new_leader), true).ok());
  s.on_sealed_written();
  CHECK(s.last_index() == 5);
  CHECK(term_of(s, 5) == 2);
  CHECK(term_of(s, 4) == 1);
  disk.reopen();
  CHECK(disk.store().last_index() == 5);
  CHECK(keys_in_log(disk.engine()) == 5);
}

TEST_CASE("log store: compaction", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 4, 1)).ok());
  REQUIRE(disk.append(run(5, 10, 2)).ok());

  REQUIRE(disk.compact(6).ok());
  CHECK(s.first_index() == 7);
  CHECK(s.last_index() == 10);
  CHECK(term_of(s, 6) == 2);  // the compaction point keeps its term
  CHECK(s.term(5).status() == raft::Status::kCompacted);
  CHECK(s.entries(6, 8, kNoLimit).status() == raft::Status::kCompacted);
  CHECK(entries_of(s, 7, 11) == run(7, 10, 2));
  CHECK(keys_in_log(disk.engine()) == 4);

  auto again = disk.compact(6);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kCompacted);
  auto past = disk.compact(11);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error().code == ErrorCode::kUnavailable);

  // Compacting everything leaves an empty log that still knows its last term.
  REQUIRE(disk.compact(10).ok());
  CHECK(s.first_index() == 11);
  CHECK(s.last_index() == 10);
  CHECK(term_of(s, 10) == 2);
  REQUIRE(disk.append(run(11, 12, 3)).ok());
  CHECK(term_of(s, 12) == 3);

  disk.reopen();
  auto& r = disk.store();
  CHECK(r.first_index() == 11);
  CHECK(r.last_index() == 12);
  CHECK(term_of(r, 10) == 2);
  CHECK(entries_of(r, 11, 13) == run(11, 12, 3));
}

TEST_CASE("log store: snapshots", "[raft_log_store]") {
  Disk disk;
  auto& s = disk.store();
  REQUIRE(disk.append(run(1, 10, 1)).ok());
  const raft::ConfState cs{{1, 2, 3}, {}};

  // The server made a snapshot at 8 and compacts up to it.
  raft::SnapshotMetadata made;
  REQUIRE(disk.commit([&](RaftLogStore& st, WriteBatch& b) -> corral::Status {
                auto meta = st.stage_create_snapshot(b, 8, cs);
                if (!meta.ok()) return meta.error();
                made = meta.value();
                return st.stage_compact(b, 8);
              }).ok());
  CHECK(made == raft::SnapshotMetadata{8, 1, cs});
  CHECK(s.initial_state().conf_state == cs);
  CHECK(s.first_index() == 9);

  // No source yet: raft must retry later.
  CHECK(s.snapshot().status() == raft::Status::kSnapshotTemporarilyUnavailable);
  int calls = 0;
  s.set_snapshot_source([&](const raft::SnapshotMetadata& meta) -> corral::Result<raft::Snapshot> {
    ++calls;
    if (calls == 1) return make_error(ErrorCode::kUnavailable, "image not ready");
    return raft::Snapshot{meta, "image@" + std::to_string(meta.index)};
  });
  CHECK(s.snapshot().status() == raft::Status::kSnapshotTemporarilyUnavailable);
  auto snap = s.snapshot();
  REQUIRE(snap.ok());
  CHECK(snap.value().metadata == made);
  CHECK(snap.value().data == "image@8");

  WriteBatch batch;
  auto old = s.stage_create_snapshot(batch, 8, cs);
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().code == ErrorCode::kCompacted);
  auto future = s.stage_create_snapshot(batch, 11, cs);
  REQUIRE_FALSE(future.ok());
  CHECK(future.error().code == ErrorCode::kUnavailable);
  CHECK(batch.empty());

  // A leader's snapshot at 20 replaces the whole log.
  const raft::SnapshotMetadata received{20, 4, raft::ConfState{{1, 2}, {5}}};
  REQUIRE(disk.commit([&](RaftLogStore& st, WriteBatch& b) {
                return st.stage_apply_snapshot(b, received);
              }).ok());
  CHECK(s.first_index() == 21);
  CHECK(s.last_index() == 20);
  CHECK(term_of(s, 20) == 4);
  CHECK(s.term(19).status() == raft::Status::kCompacted);
  CHECK(s.initial_state().conf_state == received.conf_state);
  CHECK(keys_in_log(disk.engine()) == 0);
  CHECK(s.snapshot().value().metadata == received);

  auto stale = disk.commit([&](RaftLogStore& st, WriteBatch& b) {
    return st.stage_apply_snapshot(b, raft::SnapshotMetadata{15, 4, {}});
  });
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == ErrorCode::kCompacted);

  REQUIRE(disk.append(run(21, 22, 4)).ok());
  disk.reopen();
  auto& r = disk.store();
  CHECK(r.first_index() == 21);
  CHECK(r.last_index() == 22);
  CHECK(term_of(r, 20) == 4);
  CHECK(r.initial_state().conf_state == received.conf_state);
  CHECK(r.snapshot().status() == raft::Status::kSnapshotTemporarilyUnavailable);  // no source
}

TEST_CASE("log store: entries max_bytes, from cache and from disk", "[raft_log_store]") {
  // A cache of ~2 entries forces most reads to RocksDB.
  const uint64_t cache_bytes = GENERATE(uint64_t{0}, uint64_t{250}, kDefaultLogCacheBytes);
  Disk disk(cache_bytes);
  auto& s = disk.store();
  std::vector<Entry> log;
  for (Index i = 1; i <= 20; ++i) log.push_back(entry(i, 1, std::string(100, 'a' + i % 26)));
  REQUIRE(disk.append(log).ok());
  CHECK(s.cache_bytes() <= cache_bytes);

  auto slice = [&](Index lo, Index hi) {
    return std::vector<Entry>(log.begin() + (lo - 1), log.begin() + (hi - 1));
  };
  CHECK(entries_of(s, 1, 21) == log);
  CHECK(entries_of(s, 3, 8, 0) == slice(3, 4));     // at least one entry
  CHECK(entries_of(s, 3, 8, 99) == slice(3, 4));
  CHECK(entries_of(s, 3, 8, 100) == slice(3, 4));
  CHECK(entries_of(s, 3, 8, 199) == slice(3, 4));
  CHECK(entries_of(s, 3, 8, 200) == slice(3, 5));
  CHECK(entries_of(s, 1, 21, 1000) == slice(1, 11));
  CHECK(entries_of(s, 15, 21, 350) == slice(15, 18));
  CHECK(entries_of(s, 5, 5).empty());
  CHECK(s.entries(6, 5, kNoLimit).status() == raft::Status::kUnavailable);

  disk.reopen();
  CHECK(entries_of(disk.store(), 1, 21) == log);
  CHECK(entries_of(disk.store(), 1, 21, 1000) == slice(1, 11));
}

TEST_CASE("log store: recovery restores everything", "[raft_log_store]") {
  Disk disk;
  const raft::ConfState cs{{1, 2, 3}, {4}};
  const raft::HardState hs{5, 2, 9};
  REQUIRE(disk.commit([&](RaftLogStore& st, WriteBatch& b) {
                st.stage_conf_state(b, cs);
                st.stage_hard_state(b, hs);
                return st.stage_append(b, run(1, 12, 5));
              }).ok());
  REQUIRE(disk.compact(3).ok());
  const auto before = entries_of(disk.store(), 4, 13);

  disk.reopen();
  auto& r = disk.store();
  CHECK(r.initial_state().hard_state == hs);
  CHECK(r.initial_state().conf_state == cs);
  CHECK(r.first_index() == 4);
  CHECK(r.last_index() == 12);
  CHECK(term_of(r, 3) == 5);
  CHECK(entries_of(r, 4, 13) == before);
}

TEST_CASE("log store: a damaged log is refused at open", "[raft_log_store]") {
  Disk disk;
  REQUIRE(disk.append(run(1, 5, 1)).ok());
  SECTION("hole") {
    WriteBatch b;
    b.del(Space::kRaftLog, log_key(3));
    REQUIRE(disk.engine().write(std::move(b), true).ok());
  }
  SECTION("garbage entry") {
    WriteBatch b;
    b.put(Space::kRaftLog, log_key(4), "not a record");
    REQUIRE(disk.engine().write(std::move(b), true).ok());
  }
  SECTION("entry under the wrong key") {
    WriteBatch b;
    b.put(Space::kRaftLog, log_key(4), encode_entry(entry(9, 1)));
    REQUIRE(disk.engine().write(std::move(b), true).ok());
  }
  SECTION("garbage hard state") {
    WriteBatch b;
    b.put(Space::kRaftMeta, "hard_state", std::string(16, '\xff'));
    REQUIRE(disk.engine().write(std::move(b), true).ok());
  }
  auto store = RaftLogStore::open(&disk.engine());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kStorage);
}

TEST_CASE("log store: behaves like raft::MemoryStorage under random operations",
          "[raft_log_store]") {
  const uint64_t seed = GENERATE(1u, 2u, 3u, 4u);
  constexpr int kSteps = 300;
  constexpr int kReadsPerStep = 4;
  std::mt19937_64 rng(seed);
  Disk disk(/*cache_bytes=*/600, /*sync=*/false);  // small cache: reads mix cache and RocksDB
  raft::MemoryStorage mem;
  Term term = 1;

  auto compare = [&](raft::LogStorage& s) {
    REQUIRE(s.first_index() == mem.first_index());
    REQUIRE(s.last_index() == mem.last_index());
    const Index last = mem.last_index();
    for (Index i = mem.first_index() - 1; i <= last + 1; ++i) {
      auto a = s.term(i);
      auto b = mem.term(i);
      REQUIRE(a.status() == b.status());
      if (a.ok()) REQUIRE(a.value() == b.value());
    }
    REQUIRE(s.term(mem.first_index() > 1 ? mem.first_index() - 2 : 0).status() ==
            mem.term(mem.first_index() > 1 ? mem.first_index() - 2 : 0).status());
    for (int k = 0; k < kReadsPerStep; ++k) {
      const Index lo = rng() % (last + 3);
      const Index hi = lo + rng() % 8;
      const uint64_t max_bytes = rng() % 4 == 0 ? kNoLimit : rng() % 120;
      auto a = s.entries(lo, hi, max_bytes);
      auto b = mem.entries(lo, hi, max_bytes);
      INFO("entries(" << lo << ", " << hi << ", " << max_bytes << ")");
      REQUIRE(a.status() == b.status());
      if (a.ok()) REQUIRE(a.value() == b.value());
    }
  };

  for (int step = 0; step < kSteps; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 6) {
      // Append at or before last+1 (sometimes a gap, sometimes compacted).
      const Index last = mem.last_index();
      const Index start = last + 2 - std::min<Index>(last + 1, rng() % 6);
      if (rng() % 3 == 0) ++term;
      std::vector<Entry> ents;
      const size_t n = rng() % 5 + 1;
      for (size_t i = 0; i < n; ++i) {
        ents.push_back(entry(start + i, term, std::string(rng() % 60 + 1, 'x')));
      }
      auto a = disk.append(ents);
      REQUIRE(as_raft_status(a) == mem.append(ents));
    } else if (op < 8) {
      const Index target = mem.first_index() - 1 + rng() % (mem.last_index() - mem.first_index() + 3);
      auto a = disk.compact(target);
      REQUIRE(as_raft_status(a) == mem.compact(target));
    } else if (op < 9) {
      const Index target = mem.last_index() + 1 - rng() % 4;
      const raft::ConfState cs{{1, 2, static_cast<raft::NodeId>(step + 3)}, {}};
      raft::Status got = raft::Status::kOk;
      disk.commit([&](RaftLogStore& st, WriteBatch& b) {
        auto meta = st.stage_create_snapshot(b, target, cs);
        got = meta.ok() ? raft::Status::kOk : as_raft_status(meta.error());
        return corral::Status();
      });
      auto want = mem.create_snapshot(target, cs, "img");
      REQUIRE(got == want.status());
    } else {
      const Index target = mem.last_index() + rng() % 5;
      const raft::SnapshotMetadata meta{target, term, raft::ConfState{{1}, {}}};
      auto a = disk.commit([&](RaftLogStore& st, WriteBatch& b) {
        return st.stage_apply_snapshot(b, meta);
      });
      REQUIRE(as_raft_status(a) == mem.apply_snapshot(raft::Snapshot{meta, "img"}));
    }
    REQUIRE(disk.store().initial_state().conf_state == mem.initial_state().conf_state);
    compare(disk.store());
    if (step % 50 == 49) {
      disk.reopen();
      compare(disk.store());
    }
  }
}

}  // namespace corral::storage
