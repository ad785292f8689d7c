#include "coordinator/storage/engine.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/storage/temp_dir.h"

namespace corral::storage {
namespace {

using testing::TempDir;

std::unique_ptr<Engine> open_engine(const std::string& path, bool in_memory) {
  EngineOptions options;
  options.path = path;
  options.in_memory = in_memory;
  auto engine = Engine::open(options);
  INFO((engine.ok() ? std::string() : engine.error().message));
  REQUIRE(engine.ok());
  return std::move(engine).value();
}

std::optional<std::string> get(const Engine& engine, Space space, std::string_view key) {
  auto value = engine.get(space, key);
  REQUIRE(value.ok());
  return value.value();
}

std::vector<std::pair<std::string, std::string>> scan_all(const Engine& engine, Space space,
                                                          std::string_view lower,
                                                          std::string_view upper) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = engine.scan(space, lower, upper);
  for (; it->valid(); it->next()) out.emplace_back(it->key(), it->value());
  REQUIRE(it->status().ok());
  return out;
}

void put(Engine& engine, Space space, const std::string& key, const std::string& value) {
  WriteBatch batch;
  batch.put(space, key, value);
  REQUIRE(engine.write(std::move(batch), false).ok());
}

}  // namespace

TEST_CASE("engine: put, get, delete and spaces are separate", "[engine]") {
  const bool in_memory = GENERATE(false, true);
  TempDir dir;
  auto engine = open_engine(dir.sub("db"), in_memory);

  put(*engine, Space::kKv, "a", "1");
  put(*engine, Space::kLease, "a", "2");
  CHECK(get(*engine, Space::kKv, "a") == std::optional<std::string>("1"));
  CHECK(get(*engine, Space::kLease, "a") == std::optional<std::string>("2"));
  CHECK(get(*engine, Space::kRaftLog, "a") == std::nullopt);
  CHECK(get(*engine, Space::kKv, "b") == std::nullopt);

  WriteBatch batch;
  batch.del(Space::kKv, "a");
  CHECK(batch.count() == 1);
  REQUIRE(engine->write(std::move(batch), true).ok());
  CHECK(get(*engine, Space::kKv, "a") == std::nullopt);
  CHECK(get(*engine, Space::kLease, "a") == std::optional<std::string>("2"));

  // Binary keys and values survive untouched.
  const std::string binary_key("\x00\xff\x00k", 4);
  const std::string binary_value("\x00\x01\x02", 3);
  put(*engine, Space::kKvMeta, binary_key, binary_value);
  CHECK(get(*engine, Space::kKvMeta, binary_key) == std::optional<std::string>(binary_value));
}

TEST_CASE("engine: scan honours bounds and sees one consistent view", "[engine]") {
  const bool in_memory = GENERATE(false, true);
  TempDir dir;
  auto engine = open_engine(dir.sub("db"), in_memory);
  WriteBatch batch;
  for (const char* k : {"a", "b/1", "b/2", "b/3", "c"}) batch.put(Space::kKv, k, std::string("v") + k);
  REQUIRE(engine->write(std::move(batch), false).ok());

  auto range = scan_all(*engine, Space::kKv, "b/", "b0");
  REQUIRE(range.size() == 3);
  CHECK(range[0] == std::make_pair(std::string("b/1"), std::string("vb/1")));
  CHECK(range[2].first == "b/3");
  CHECK(scan_all(*engine, Space::kKv, "b/2", "").size() == 3);  // b/2 b/3 c
  CHECK(scan_all(*engine, Space::kKv, "", "").size() == 5);
  CHECK(scan_all(*engine, Space::kKv, "d", "").empty());
  CHECK(scan_all(*engine, Space::kLease, "", "").empty());

  // An open iterator keeps its view while writes go on.
  auto it = engine->scan(Space::kKv, "", "");
  WriteBatch later;
  later.put(Space::kKv, "aa", "new");
  later.del(Space::kKv, "c");
  REQUIRE(engine->write(std::move(later), false).ok());
  std::vector<std::string> seen;
  for (; it->valid(); it->next()) seen.emplace_back(it->key());
  CHECK(seen == std::vector<std::string>{"a", "b/1", "b/2", "b/3", "c"});
  CHECK(scan_all(*engine, Space::kKv, "", "").size() == 5);  // a aa b/1 b/2 b/3
}

TEST_CASE("engine: delete_range and last_key", "[engine]") {
  const bool in_memory = GENERATE(false, true);
  TempDir dir;
  auto engine = open_engine(dir.sub("db"), in_memory);
  WriteBatch batch;
  for (int i = 0; i < 10; ++i) batch.put(Space::kRaftLog, "k" + std::to_string(i), "v");
  REQUIRE(engine->write(std::move(batch), false).ok());

  auto last = engine->last_key(Space::kRaftLog, "", "");
  REQUIRE(last.ok());
  CHECK(last.value() == std::optional<std::string>("k9"));
  last = engine->last_key(Space::kRaftLog, "k2", "k5");
  REQUIRE(last.ok());
  CHECK(last.value() == std::optional<std::string>("k4"));
  last = engine->last_key(Space::kRaftLog, "k3", "k30");
  REQUIRE(last.ok());
  CHECK(last.value() == std::optional<std::string>("k3"));
  last = engine->last_key(Space::kRaftLog, "x", "");
  REQUIRE(last.ok());
  CHECK(last.value() == std::nullopt);
  last = engine->last_key(Space::kRaftLog, "", "k0");
  REQUIRE(last.ok());
  CHECK(last.value() == std::nullopt);

  WriteBatch del;
  del.delete_range(Space::kRaftLog, "k3", "k7");
  del.delete_range(Space::kRaftLog, "k9", "k1");  // inverted: deletes nothing
  REQUIRE(engine->write(std::move(del), true).ok());
  auto rest = scan_all(*engine, Space::kRaftLog, "", "");
  std::vector<std::string> keys;
  for (auto& kv : rest) keys.push_back(kv.first);
  CHECK(keys == std::vector<std::string>{"k0", "k1", "k2", "k7", "k8", "k9"});
  last = engine->last_key(Space::kRaftLog, "k3", "k7");
  REQUIRE(last.ok());
  CHECK(last.value() == std::nullopt);
}

TEST_CASE("engine: batch operations apply in order", "[engine]") {
  TempDir dir;
  auto engine = open_engine(dir.sub("db"), false);
  WriteBatch batch;
  batch.put(Space::kKv, "x", "1");
  batch.del(Space::kKv, "x");
  batch.put(Space::kKv, "y", "1");
  batch.delete_range(Space::kKv, "y", "z");
  batch.put(Space::kKv, "y", "2");
  CHECK(batch.count() == 5);
  CHECK(batch.size_bytes() > 0);
  REQUIRE(engine->write(std::move(batch), true).ok());
  CHECK(get(*engine, Space::kKv, "x") == std::nullopt);
  CHECK(get(*engine, Space::kKv, "y") == std::optional<std::string>("2"));
  // A moved-from batch is empty and usable again.
  WriteBatch first;
  first.put(Space::kKv, "m", "1");
  WriteBatch second = std::move(first);
  CHECK(second.count() == 1);
  first.put(Space::kKv, "n", "2");  // NOLINT(bugprone-use-after-move): on purpose
  CHECK(first.count() == 1);
  REQUIRE(engine->write(std::move(first), false).ok());
  CHECK(get(*engine, Space::kKv, "n") == std::optional<std::string>("2"));
  CHECK(get(*engine, Space::kKv, "m") == std::nullopt);
  // An empty batch, synced or not, is fine.
  CHECK(engine->write(WriteBatch(), true).ok());
  CHECK(engine->write(WriteBatch(), false).ok());
}

TEST_CASE("engine: a reader never sees part of a batch", "[engine]") {
  TempDir dir;
  auto engine = open_engine(dir.sub("db"), false);
  constexpr int kKeysPerBatch = 16;
  constexpr int kBatches = 300;
  constexpr int kMaxScans = 100000;
  auto write_round = [&](int round) {
    WriteBatch batch;
    for (int k = 0; k < kKeysPerBatch; ++k) {
      batch.put(Space::kKv, "key" + std::to_string(100 + k), std::to_string(round));
    }
    return engine->write(std::move(batch), false);
  };
  REQUIRE(write_round(0).ok());

  std::atomic<bool> done{false};
  std::atomic<bool> write_failed{false};
  std::thread writer([&] {
    for (int round = 1; round <= kBatches; ++round) {
      if (!write_round(round).ok()) write_failed = true;
    }
    done = true;
  });
  int torn = 0;
  int scans = 0;
  int last_round_seen = 0;
  while (scans < kMaxScans) {
    const bool finished = done.load();
    auto rows = scan_all(*engine, Space::kKv, "key", "kez");
    ++scans;
    if (rows.size() != kKeysPerBatch) ++torn;
    for (auto& row : rows) {
      if (row.second != rows.front().second) ++torn;
    }
    if (!rows.empty()) last_round_seen = std::stoi(rows.front().second);
    if (finished) break;
  }
  writer.join();
  CHECK_FALSE(write_failed);
  CHECK(torn == 0);
  CHECK(last_round_seen == kBatches);  // the final scan ran after the last write
}

TEST_CASE("engine: data survives reopen and checkpoints open on their own", "[engine]") {
  TempDir dir;
  {
    auto engine = open_engine(dir.sub("db"), false);
    put(*engine, Space::kRaftMeta, "hard_state", "hs");
    WriteBatch batch;
    for (int i = 0; i < 100; ++i) batch.put(Space::kKv, "k" + std::to_string(i), std::string(100, 'x'));
    REQUIRE(engine->write(std::move(batch), true).ok());
    REQUIRE(engine->checkpoint(dir.sub("cp")).ok());
    put(*engine, Space::kKv, "after-checkpoint", "1");
    // A checkpoint refuses a directory that already exists.
    auto again = engine->checkpoint(dir.sub("cp"));
    CHECK_FALSE(again.ok());
    CHECK(again.error().code == ErrorCode::kStorage);
  }
  {
    auto engine = open_engine(dir.sub("db"), false);
    CHECK(get(*engine, Space::kRaftMeta, "hard_state") == std::optional<std::string>("hs"));
    CHECK(get(*engine, Space::kKv, "after-checkpoint") == std::optional<std::string>("1"));
    CHECK(scan_all(*engine, Space::kKv, "k", "l").size() == 100);
  }
  auto copy = open_engine(dir.sub("cp"), false);
  CHECK(get(*copy, Space::kRaftMeta, "hard_state") == std::optional<std::string>("hs"));
  CHECK(scan_all(*copy, Space::kKv, "k", "l").size() == 100);
  CHECK(get(*copy, Space::kKv, "after-checkpoint") == std::nullopt);
}

TEST_CASE("engine: in-memory engines leave nothing on disk and share nothing", "[engine]") {
  TempDir dir;
  const std::string path = dir.sub("mem");
  {
    auto engine = open_engine(path, true);
    put(*engine, Space::kKv, "k", "v");
    CHECK(get(*engine, Space::kKv, "k") == std::optional<std::string>("v"));
  }
  CHECK_FALSE(std::filesystem::exists(path));
  auto fresh = open_engine(path, true);
  CHECK(get(*fresh, Space::kKv, "k") == std::nullopt);
}

TEST_CASE("engine: open errors are typed", "[engine]") {
  TempDir dir;
  EngineOptions options;
  auto empty = Engine::open(options);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == ErrorCode::kBadRequest);

  const std::string file = dir.sub("plain-file");
  std::ofstream(file) << "not a directory";
  options.path = file;
  auto on_file = Engine::open(options);
  REQUIRE_FALSE(on_file.ok());
  CHECK(on_file.error().code == ErrorCode::kStorage);
  CHECK(on_file.error().message.find("rocksdb") != std::string::npos);
}

}  // namespace corral::storage

namespace corral::storage {

// A crash: engine_crash_writer writes and then _exits without closing the
// database (no memtable flush at close); the test reopens the files.
TEST_CASE("engine: unlogged writes survive a crash only up to the last flush, all spaces together",
          "[engine]") {
  TempDir dir;
  const std::string path = dir.sub("db");
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::execl(CORRAL_ENGINE_CRASH_WRITER, CORRAL_ENGINE_CRASH_WRITER, path.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto engine = open_engine(path, false);
  for (Space space : {Space::kKv, Space::kKvMeta, Space::kLease, Space::kRaftMeta}) {
    INFO(space_name(space));
    CHECK(get(*engine, space, "k") == std::optional<std::string>("flushed"));
  }
  CHECK(get(*engine, Space::kRaftLog, "log") == std::optional<std::string>("synced"));
}

TEST_CASE("engine: unlogged writes are read back at once and kept by a clean close", "[engine]") {
  const bool in_memory = GENERATE(false, true);
  TempDir dir;
  auto engine = open_engine(dir.sub("db"), in_memory);
  WriteBatch batch;
  batch.put(Space::kKv, "a", "1");
  batch.put(Space::kKvMeta, "applied", "7");
  REQUIRE(engine->write_unlogged(std::move(batch)).ok());
  CHECK(get(*engine, Space::kKv, "a") == std::optional<std::string>("1"));
  CHECK(engine->write_unlogged(WriteBatch()).ok());
  REQUIRE(engine->flush().ok());
  CHECK(get(*engine, Space::kKvMeta, "applied") == std::optional<std::string>("7"));
  if (in_memory) return;
  WriteBatch later;
  later.put(Space::kKv, "b", "2");
  REQUIRE(engine->write_unlogged(std::move(later)).ok());
  engine.reset();  // RocksDB flushes unlogged data when the database closes
  engine = open_engine(dir.sub("db"), false);
  CHECK(get(*engine, Space::kKv, "b") == std::optional<std::string>("2"));
}

}  // namespace corral::storage
