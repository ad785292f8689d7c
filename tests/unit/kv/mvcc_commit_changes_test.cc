// The apply path of a batch of small txns (a lease grant batch): commit_changes
// leaves the state record to one record_applied_index per entry, and the
// records staged but not yet written are served (and compacted) from memory.
#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

#include "kv_test_util.h"

using namespace corral;
using namespace corral::kv;
using corral::kv::test::StoreFixture;

TEST_CASE("commit_changes stages only the changes, record_applied_index stages the state once", "[mvcc][apply]") {
  const auto dir = std::filesystem::temp_directory_path() / ("corral-kv-commit-changes-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    StoreFixture f(dir.string());
    storage::WriteBatch batch;
    constexpr int kTxns = 50;
    for (int i = 0; i < kTxns; ++i) {
      WriteTxn t = f.store().begin_write(7);
      REQUIRE(t.put("/agents/" + std::to_string(i), "up", 100 + i).ok());
      auto events = t.commit_changes(batch);
      CHECK(events.events.size() == 1);
    }
    CHECK(batch.count() == kTxns);  // one record per put, no state record yet
    f.store().record_applied_index(7, batch);
    CHECK(batch.count() == kTxns + 1);
    CHECK(f.store().current_revision() == kTxns);
    CHECK(f.get("/agents/3")->lease == 103);  // served from the staged records
    REQUIRE(f.engine().write(std::move(batch), false).ok());
    f.store().batch_written();
    f.reopen();
    CHECK(f.store().current_revision() == kTxns);
    CHECK(f.store().applied_index() == 7);
    CHECK(f.get("/agents/49")->mod_revision == kTxns);
    CHECK(f.get("/agents/0")->lease == 100);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("commit still stages the state record with the changes", "[mvcc][apply]") {
  StoreFixture f;
  storage::WriteBatch batch;
  WriteTxn t = f.store().begin_write(3);
  REQUIRE(t.put("k", "v").ok());
  t.commit(batch);
  CHECK(batch.count() == 2);
}

TEST_CASE("compaction drops staged records it removes, and reads stay right", "[mvcc][apply][compact]") {
  StoreFixture f;
  f.put("other", "x");  // 1, written
  storage::WriteBatch batch;
  for (int i = 0; i < 5; ++i) {  // revisions 2..6, staged only
    WriteTxn t = f.store().begin_write(f.store().applied_index() + 1);
    REQUIRE(t.put("k", "v" + std::to_string(i)).ok());
    t.commit_changes(batch);
  }
  REQUIRE(f.store().compact(5, batch).ok());
  CHECK(f.get("k")->value == "v4");
  CHECK(f.get("k", 5)->value == "v3");
  auto from_point = f.store().events(5, "k", "", 100);
  REQUIRE(from_point.ok());
  REQUIRE(from_point->size() == 2);
  CHECK(from_point->at(0).events.at(0).kv.value == "v3");
  auto all = f.store().events(5, "", kRangeEndAll, 100);
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  CHECK(f.store().events(4, "k", "", 100).error().code == ErrorCode::kCompacted);
  REQUIRE(f.engine().write(std::move(batch), false).ok());
  f.store().batch_written();
  CHECK(f.get("k", 5)->value == "v3");
  CHECK(f.get("k")->version == 5);
}
