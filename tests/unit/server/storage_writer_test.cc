// StorageWriter: writes in submission order, one fsync per queued run,
// bounded queue, failures reported, drain() waits for everything.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "coordinator/server/storage_writer.h"
#include "tests/unit/server/gated_engine.h"

using namespace corral;
using server::StorageWriter;

namespace {

using corral::testing::GatedEngine;

storage::WriteBatch batch_of(const std::string& key, size_t value_bytes = 10) {
  storage::WriteBatch b;
  b.put(storage::Space::kRaftLog, key, std::string(value_bytes, 'v'));
  return b;
}

}  // namespace

TEST_CASE("storage writer: writes in order, reports each position, wakes the loop", "[storage_writer]") {
  GatedEngine engine("order");
  std::atomic<int> wakes{0};
  StorageWriter writer(engine, [&] { ++wakes; });
  for (int i = 1; i <= 5; ++i) REQUIRE(writer.submit(batch_of("k" + std::to_string(i)), i, 1));
  writer.drain();
  CHECK(writer.in_flight() == 0);
  CHECK(wakes.load() >= 1);
  auto done = writer.take_done();
  REQUIRE(done.size() == 5);
  for (size_t i = 0; i < done.size(); ++i) {
    CHECK(done[i].index == i + 1);
    CHECK(done[i].term == 1);
    CHECK(done[i].status.ok());
  }
  CHECK(writer.take_done().empty());
  for (int i = 1; i <= 5; ++i) {
    auto got = engine.get(storage::Space::kRaftLog, "k" + std::to_string(i));
    REQUIRE(got.ok());
    CHECK(got.value().has_value());
  }
}

TEST_CASE("storage writer: writes queued behind a running one share one sync", "[storage_writer]") {
  GatedEngine engine("group");
  engine.set_open(false);
  StorageWriter writer(engine, [] {});
  REQUIRE(writer.submit(batch_of("a"), 1, 1));
  REQUIRE(engine.wait_entered(1));  // the writer holds "a" at the gate
  REQUIRE(writer.submit(batch_of("b"), 2, 1));
  REQUIRE(writer.submit(batch_of("c"), 3, 1));
  REQUIRE(writer.submit(batch_of("d"), 4, 1));
  CHECK(writer.take_done().empty());  // nothing is durable yet
  engine.set_open(true);
  writer.drain();
  // "a" alone, then its sync; then b, c and d, and one sync for the three.
  // Every write is unsynced: each run is synced after it (sync_wal, outside
  // RocksDB's write queue).
  CHECK(engine.syncs() == std::vector<bool>{false, true, false, false, false, true});
  auto done = writer.take_done();
  REQUIRE(done.size() == 4);
  CHECK(done.back().index == 4);
}

TEST_CASE("storage writer: refuses past its count and byte bounds", "[storage_writer]") {
  GatedEngine engine("bounds");
  engine.set_open(false);
  server::StorageWriterLimits limits;
  limits.max_batches = 3;
  limits.max_bytes = 1 << 20;
  StorageWriter writer(engine, [] {}, limits);
  REQUIRE(writer.submit(batch_of("a"), 1, 1));
  REQUIRE(engine.wait_entered(1));
  REQUIRE(writer.submit(batch_of("b"), 2, 1));
  REQUIRE(writer.submit(batch_of("c"), 3, 1));
  CHECK_FALSE(writer.submit(batch_of("d"), 4, 1));  // count
  CHECK(writer.in_flight() == 3);
  engine.set_open(true);
  writer.drain();
  CHECK(writer.take_done().size() == 3);

  engine.set_open(false);
  REQUIRE(writer.submit(batch_of("big", 600 << 10), 5, 1));
  REQUIRE(engine.wait_entered(2));
  CHECK_FALSE(writer.submit(batch_of("big2", 600 << 10), 6, 1));  // bytes
  CHECK(writer.submit(batch_of("small"), 6, 1));
  engine.set_open(true);
  writer.drain();
  CHECK(writer.take_done().size() == 2);
}

TEST_CASE("storage writer: an empty writer takes a batch above the byte bound", "[storage_writer]") {
  GatedEngine engine("huge");
  server::StorageWriterLimits limits;
  limits.max_bytes = 1024;
  StorageWriter writer(engine, [] {}, limits);
  CHECK(writer.submit(batch_of("huge", 4096), 1, 1));
  writer.drain();
  CHECK(writer.take_done().size() == 1);
}

TEST_CASE("storage writer: a failed write fails it and everything after it in its run", "[storage_writer]") {
  GatedEngine engine("fail");
  engine.set_open(false);
  StorageWriter writer(engine, [] {});
  REQUIRE(writer.submit(batch_of("a"), 1, 1));
  REQUIRE(engine.wait_entered(1));
  REQUIRE(writer.submit(batch_of("b"), 2, 1));
  REQUIRE(writer.submit(batch_of("c"), 3, 1));
  engine.set_fail(true);
  engine.set_open(true);
  writer.drain();
  auto done = writer.take_done();
  REQUIRE(done.size() == 3);
  for (const auto& d : done) CHECK_FALSE(d.status.ok());
}

TEST_CASE("storage writer: destruction finishes queued writes", "[storage_writer]") {
  GatedEngine engine("stop");
  {
    StorageWriter writer(engine, [] {});
    for (int i = 1; i <= 20; ++i) REQUIRE(writer.submit(batch_of("s" + std::to_string(i)), i, 2));
  }
  for (int i = 1; i <= 20; ++i) {
    auto got = engine.get(storage::Space::kRaftLog, "s" + std::to_string(i));
    REQUIRE(got.ok());
    CHECK(got.value().has_value());
  }
}
