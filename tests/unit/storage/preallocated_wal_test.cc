// The WAL written into zeros written ahead (preallocated_wal.h) and the cut
// of a write torn by a crash (wal_torn_tail.h), on real data dirs: a crash
// image is a copy of a data dir taken while its engine is open (every
// write synced, the WAL not closed, so it ends in zeros), then damaged the
// way a crash in the middle of the last write leaves it.
#include "coordinator/storage/preallocated_wal.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "coordinator/storage/engine.h"
#include "coordinator/storage/wal_torn_tail.h"
#include "tests/unit/storage/temp_dir.h"
#include "tests/unit/storage/wal_files.h"

namespace corral::storage {
namespace {

using namespace testing;

std::string key(int i) { return "k" + std::to_string(100000 + i); }
std::string value(int i, size_t bytes) { return std::string(bytes, static_cast<char>('a' + i % 26)); }

std::unique_ptr<Engine> open_engine(const std::string& path) {
  EngineOptions options;
  options.path = path;
  auto engine = Engine::open(options);
  INFO((engine.ok() ? std::string() : engine.error().message));
  REQUIRE(engine.ok());
  return std::move(engine.value());
}

void put_synced(Engine& engine, int i, size_t value_bytes) {
  WriteBatch batch;
  batch.put(Space::kRaftLog, key(i), value(i, value_bytes));
  REQUIRE(engine.write(std::move(batch), true).ok());
}

// `count` keys (value_bytes each, the last one last_bytes) written synced;
// then a copy of the data dir taken with the engine still open.
struct CrashImage {
  CrashImage(int count, size_t value_bytes, size_t last_bytes) {
    auto engine = open_engine(live);
    for (int i = 0; i + 1 < count; ++i) put_synced(*engine, i, value_bytes);
    put_synced(*engine, count - 1, last_bytes);
    live_wal_size = std::filesystem::file_size(the_wal_file(live));
    std::filesystem::copy(live, image, std::filesystem::copy_options::recursive);
    wal = the_wal_file(image);
    bytes = read_all(wal);
  }
  TempDir dir;
  const std::string live = dir.sub("live");
  const std::string image = dir.sub("image");
  uint64_t live_wal_size = 0;
  std::string wal;
  std::string bytes;
};

void zero(std::string& bytes, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to && i < bytes.size(); ++i) bytes[i] = '\0';
}

// The image opens; keys [0, kept) are there with their values, `lost` is not.
void require_opens_with(const CrashImage& c, int kept, int lost, size_t value_bytes) {
  auto engine = open_engine(c.image);
  for (int i = 0; i < kept; ++i) {
    INFO("key " << i);
    REQUIRE((*engine).get(Space::kRaftLog, key(i)).value() == std::optional<std::string>(value(i, value_bytes)));
  }
  CHECK((*engine).get(Space::kRaftLog, key(lost)).value() == std::nullopt);
}

}  // namespace

TEST_CASE("preallocated wal: the log is written into zeros a chunk ahead, and cut back to its records at close",
          "[engine][wal]") {
  TempDir dir;
  const std::string path = dir.sub("db");
  std::string wal;
  {
    auto engine = open_engine(path);
    for (int i = 0; i < 10; ++i) put_synced(*engine, i, 100);
    wal = the_wal_file(path);
    CHECK(std::filesystem::file_size(wal) == kWalChunkBytes);
    // Past the chunk: the file grows by another chunk of zeros.
    for (int i = 10; i < 40; ++i) put_synced(*engine, i, 40000);
    CHECK(std::filesystem::file_size(wal) == 2 * kWalChunkBytes);
    const std::string bytes = read_all(wal);
    CHECK(bytes.find_last_not_of('\0') + 1 < 2 * kWalChunkBytes - 4096);
  }
  const std::string closed = read_all(wal);
  CHECK(closed.size() < 2 * kWalChunkBytes);
  CHECK(closed.back() != '\0');
  CHECK(find_torn_wal_tail(closed) == std::nullopt);
  auto engine = open_engine(path);
  CHECK((*engine).get(Space::kRaftLog, key(39)).value() == std::optional<std::string>(value(39, 40000)));
}

TEST_CASE("preallocated wal: a crash image, zeros and all, opens with every synced write", "[engine][wal]") {
  const size_t value_bytes = GENERATE(100, 5000);
  CrashImage c(300, value_bytes, value_bytes);
  CHECK(c.bytes.size() % kWalChunkBytes == 0);
  CHECK(c.bytes.back() == '\0');
  CHECK(find_torn_wal_tail(c.bytes) == std::nullopt);
  require_opens_with(c, 300, 300, value_bytes);
  // Written on after the crash, through a new WAL, and opened again.
  {
    auto engine = open_engine(c.image);
    put_synced(*engine, 300, value_bytes);
  }
  require_opens_with(c, 301, 301, value_bytes);
}

TEST_CASE("wal torn tail: a last write partly on disk is cut off, and only it is lost", "[engine][wal]") {
  CrashImage c(60, 1000, 3000);
  const Record last = wal_records(c.bytes).back();
  REQUIRE(last.type == 1);  // one FULL record
  SECTION("its payload's end is still zeros (a power loss kept its first sectors)") {
    zero(c.bytes, last.at + kHeaderSize + 2048, last.at + kHeaderSize + last.length);
  }
  SECTION("its header is there and nothing else") { zero(c.bytes, last.at + kHeaderSize, c.bytes.size()); }
  SECTION("its header is zeros and the rest of it is there (sectors out of order)") {
    zero(c.bytes, last.at, last.at + kHeaderSize);
  }
  write_all(c.wal, c.bytes);
  CHECK(find_torn_wal_tail(c.bytes) == std::optional<uint64_t>(last.at));
  require_opens_with(c, 59, 59, 1000);
}

TEST_CASE("wal torn tail: a last write cut into fragments is cut off whole", "[engine][wal]") {
  CrashImage c(20, 1000, 100000);  // the last write crosses four blocks: FIRST, MIDDLE, MIDDLE, LAST
  auto all = wal_records(c.bytes);
  std::vector<Record> fragments;
  for (const auto& r : all) {
    if (r.type >= 2 && r.type <= 4) fragments.push_back(r);
  }
  REQUIRE(fragments.size() >= 3);
  REQUIRE(fragments.front().type == 2);
  REQUIRE(fragments.back().type == 4);
  SECTION("its LAST fragment never written") { zero(c.bytes, fragments.back().at, c.bytes.size()); }
  SECTION("a MIDDLE fragment's payload cut short") {
    zero(c.bytes, fragments[1].at + kHeaderSize + 100, fragments[1].at + kHeaderSize + fragments[1].length);
  }
  SECTION("its FIRST fragment never written, the others were") {
    zero(c.bytes, fragments.front().at, fragments.front().at + kHeaderSize + fragments.front().length);
  }
  write_all(c.wal, c.bytes);
  CHECK(find_torn_wal_tail(c.bytes) == std::optional<uint64_t>(fragments.front().at));
  require_opens_with(c, 19, 19, 1000);
}

TEST_CASE("wal torn tail: damage before the last write is not cut, and RocksDB refuses it", "[engine][wal]") {
  CrashImage c(60, 1000, 1000);
  const auto all = wal_records(c.bytes);
  const Record middle = all[all.size() / 2];
  c.bytes[middle.at + kHeaderSize + 10] ^= 0x5a;
  write_all(c.wal, c.bytes);
  CHECK(find_torn_wal_tail(c.bytes) == std::nullopt);
  EngineOptions options;
  options.path = c.image;
  auto engine = Engine::open(options);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.error().code == ErrorCode::kStorage);
  CHECK(read_all(c.wal) == c.bytes);
}

TEST_CASE("wal torn tail: a whole WAL, growing or closed, is not cut", "[engine][wal]") {
  CrashImage c(60, 1000, 1000);
  CHECK(find_torn_wal_tail(c.bytes) == std::nullopt);
  const uint64_t end = c.bytes.find_last_not_of('\0') + 1;
  CHECK(find_torn_wal_tail(c.bytes.substr(0, end)) == std::nullopt);
  CHECK(find_torn_wal_tail("") == std::nullopt);
  auto cuts = cut_torn_wal_tails(c.image);
  REQUIRE(cuts.ok());
  CHECK(cuts->empty());
  CHECK(read_all(c.wal) == c.bytes);
}

TEST_CASE("wal torn tail: an unknown record type stops the walk: nothing is cut", "[engine][wal]") {
  CrashImage c(60, 1000, 1000);
  const auto all = wal_records(c.bytes);
  c.bytes[all[3].at + 6] = 9;
  zero(c.bytes, all.back().at + kHeaderSize, all.back().at + kHeaderSize + all.back().length);
  CHECK(find_torn_wal_tail(c.bytes) == std::nullopt);
}

}  // namespace corral::storage

namespace corral::storage {

TEST_CASE("preallocated wal: only RocksDB's WAL files are written ahead", "[engine][wal]") {
  CHECK(is_wal_file_name("/data/m1/000123.log"));
  CHECK(is_wal_file_name("000004.log"));
  CHECK_FALSE(is_wal_file_name("/data/m1/LOG"));
  CHECK_FALSE(is_wal_file_name("/data/m1/LOG.old.1700000000"));
  CHECK_FALSE(is_wal_file_name("/data/m1/000123.sst"));
  CHECK_FALSE(is_wal_file_name("/data/m1/MANIFEST-000005"));
  CHECK_FALSE(is_wal_file_name("/data/m1/.log"));
  CHECK_FALSE(is_wal_file_name("/data/m1/agent.log"));
}

}  // namespace corral::storage
