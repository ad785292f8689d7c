// Shared helpers of the kv tests: a store on a fresh engine, and one-line
// writes that commit and write their batch like the apply path does.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>

#include "coordinator/kv/mvcc_store.h"
#include "coordinator/storage/engine.h"

namespace corral::kv::test {

class StoreFixture {
 public:
  // in_memory with an empty dir; otherwise a real directory (recovery tests).
  explicit StoreFixture(std::string dir = {}) : dir_(std::move(dir)) { reopen(); }

  void reopen() {
    store_.reset();
    engine_.reset();
    storage::EngineOptions opts;
    opts.in_memory = dir_.empty();
    opts.path = dir_.empty() ? "/kv-test" : dir_;
    auto e = storage::Engine::open(opts);
    REQUIRE(e.ok());
    engine_ = std::move(*e);
    auto s = MvccStore::open(*engine_);
    REQUIRE(s.ok());
    store_ = std::move(*s);
    next_index_ = store_->applied_index() + 1;
  }

  MvccStore& store() { return *store_; }
  storage::Engine& engine() { return *engine_; }

  // Runs `body` in one write txn, commits and writes the batch.
  RevisionEvents write(const std::function<void(WriteTxn&)>& body) {
    storage::WriteBatch batch;
    RevisionEvents events;
    {
      WriteTxn txn = store_->begin_write(next_index_++);
      body(txn);
      events = txn.commit(batch);
    }
    REQUIRE(engine_->write(std::move(batch), false).ok());
    store_->batch_written();
    return events;
  }

  Revision put(const std::string& key, const std::string& value, LeaseId lease = 0) {
    write([&](WriteTxn& t) { REQUIRE(t.put(key, value, lease).ok()); });
    return store_->current_revision();
  }

  int64_t del(const std::string& key, const std::string& range_end = {}) {
    int64_t deleted = 0;
    write([&](WriteTxn& t) {
      auto r = t.delete_range(key, range_end);
      REQUIRE(r.ok());
      deleted = r->deleted;
    });
    return deleted;
  }

  void compact(Revision rev) {
    storage::WriteBatch batch;
    auto st = store_->compact(rev, batch);
    REQUIRE(st.ok());
    REQUIRE(engine_->write(std::move(batch), false).ok());
    store_->batch_written();
  }

  std::optional<KeyValue> get(const std::string& key, Revision rev = 0) {
    RangeOptions o;
    o.revision = rev;
    auto r = store_->range(key, {}, o);
    REQUIRE(r.ok());
    if (r->kvs.empty()) return std::nullopt;
    return r->kvs.front();
  }

 private:
  std::string dir_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<MvccStore> store_;
  uint64_t next_index_ = 1;
};

}  // namespace corral::kv::test
