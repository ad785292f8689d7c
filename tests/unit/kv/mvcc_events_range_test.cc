// A watch catch-up (MvccStore::events) on a narrow range reads only that
// range's history: the store is given an engine that counts every record it
// hands out, and a key with three changes among many thousand changes of
// other keys must cost a handful of reads, not a scan of the whole history.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/mvcc_store.h"
#include "coordinator/storage/engine.h"

using namespace corral;
using namespace corral::kv;

namespace {

// Forwards to a real engine and counts the records read from space kKv.
class CountingEngine final : public storage::Engine {
 public:
  explicit CountingEngine(std::unique_ptr<storage::Engine> inner) : inner_(std::move(inner)) {}
  mutable uint64_t kv_records_read = 0;

  Status write(storage::WriteBatch batch, bool sync) override { return inner_->write(std::move(batch), sync); }
  Status sync_wal() override { return inner_->sync_wal(); }
  Status write_unlogged(storage::WriteBatch batch) override { return inner_->write_unlogged(std::move(batch)); }
  Status flush() override { return inner_->flush(); }
  Result<std::optional<std::string>> get(storage::Space space, std::string_view key) const override {
    if (space == storage::Space::kKv) ++kv_records_read;
    return inner_->get(space, key);
  }
  std::unique_ptr<storage::Iterator> scan(storage::Space space, std::string_view lower,
                                          std::string_view upper) const override {
    auto it = inner_->scan(space, lower, upper);
    if (space != storage::Space::kKv) return it;
    return std::make_unique<CountingIterator>(std::move(it), kv_records_read);
  }
  Result<std::optional<std::string>> last_key(storage::Space space, std::string_view lower,
                                              std::string_view upper) const override {
    return inner_->last_key(space, lower, upper);
  }
  Status checkpoint(const std::string& dir) const override { return inner_->checkpoint(dir); }
  Result<int64_t> space_bytes(storage::Space space) const override { return inner_->space_bytes(space); }
  Status compact_space(storage::Space space) override { return inner_->compact_space(space); }
  std::unique_ptr<storage::ReadView> read_view() const override { return inner_->read_view(); }

 private:
  class CountingIterator final : public storage::Iterator {
   public:
    CountingIterator(std::unique_ptr<storage::Iterator> it, uint64_t& count) : it_(std::move(it)), count_(count) {
      if (it_->valid()) ++count_;
    }
    bool valid() const override { return it_->valid(); }
    void next() override {
      it_->next();
      if (it_->valid()) ++count_;
    }
    std::string_view key() const override { return it_->key(); }
    std::string_view value() const override { return it_->value(); }
    Status status() const override { return it_->status(); }

   private:
    std::unique_ptr<storage::Iterator> it_;
    uint64_t& count_;
  };
  std::unique_ptr<storage::Engine> inner_;
};

constexpr int kOtherTxns = 100;
constexpr int kOtherPutsPerTxn = 200;

}  // namespace

TEST_CASE("a watch catch-up on a narrow range reads only that range's history", "[history][loopstall]") {
  storage::EngineOptions opts;
  opts.in_memory = true;
  opts.path = "/kv-events-range";
  auto inner = storage::Engine::open(opts);
  REQUIRE(inner.ok());
  CountingEngine engine(std::move(*inner));
  auto opened = MvccStore::open(engine);
  REQUIRE(opened.ok());
  MvccStore& store = **opened;
  uint64_t index = 1;
  auto write = [&](const std::function<void(WriteTxn&)>& body) {
    storage::WriteBatch batch;
    {
      WriteTxn txn = store.begin_write(index++);
      body(txn);
      (void)txn.commit(batch);
    }
    REQUIRE(engine.write(std::move(batch), false).ok());
    store.batch_written();
  };
  auto put = [&](const std::string& key, const std::string& value) {
    write([&](WriteTxn& t) { REQUIRE(t.put(key, value).ok()); });
  };

  put("/watched/a", "1");
  for (int t = 0; t < kOtherTxns; ++t) {
    write([&](WriteTxn& txn) {
      for (int i = 0; i < kOtherPutsPerTxn; ++i) REQUIRE(txn.put("/other/" + std::to_string(i), "v").ok());
    });
  }
  put("/watched/a", "2");
  write([&](WriteTxn& t) { REQUIRE(t.delete_range("/watched/a").ok()); });
  put("/watched/b", "1");

  for (std::string range_end : {prefix_end("/watched/"), std::string()}) {
    engine.kv_records_read = 0;
    const std::string key = range_end.empty() ? "/watched/a" : "/watched/";
    auto h = store.events(1, key, range_end, 1000);
    REQUIRE(h.ok());
    size_t events = 0;
    for (const auto& rev : *h) events += rev.events.size();
    CHECK(events == (range_end.empty() ? 3u : 4u));
    CHECK(h->front().events.front().kv.value == "1");
    REQUIRE(h->at(1).events.front().prev_kv);
    CHECK(h->at(1).events.front().prev_kv->value == "1");
    // Each event's record and its prev_kv: a few point reads, never the
    // 20000 changes of /other/.
    CHECK(engine.kv_records_read <= 3 * events);
  }

  SECTION("the bound on events still cuts at a revision boundary") {
    auto h = store.events(1, "/", prefix_end("/"), 150);
    REQUIRE(h.ok());
    REQUIRE(h->size() == 2);
    CHECK(h->at(0).events.size() == 1);
    CHECK(h->at(1).events.size() == static_cast<size_t>(kOtherPutsPerTxn));  // a whole revision
  }
}
