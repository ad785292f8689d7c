// The WAL damage RocksDB would drop silently (wal_tail_check.h), on real WAL
// files written by the engine: each case damages one record header the way
// a bad disk or a stray write would, and checks that the check finds it and
// that the engine then refuses to open, and that a write cut by a crash is
// still accepted.
#include "coordinator/storage/wal_tail_check.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "coordinator/storage/engine.h"
#include "tests/unit/storage/temp_dir.h"
#include "tests/unit/storage/wal_files.h"

namespace corral::storage {
namespace {

using namespace testing;

// Writes `count` synced batches, one key each, and closes the engine
// (RocksDB keeps them in the WAL: nothing is flushed).
void write_keys(const std::string& path, int count, size_t value_bytes) {
  EngineOptions options;
  options.path = path;
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  for (int i = 0; i < count; ++i) {
    WriteBatch batch;
    batch.put(Space::kRaftLog, "k" + std::to_string(1000 + i), std::string(value_bytes, 'v'));
    REQUIRE((*engine)->write(std::move(batch), true).ok());
  }
}

// Offsets of the physical record headers.
std::vector<uint64_t> record_offsets(const std::string& bytes) {
  std::vector<uint64_t> offsets;
  for (const Record& r : wal_records(bytes)) offsets.push_back(r.at);
  return offsets;
}

void set_length(std::string& bytes, uint64_t at, uint64_t length) {
  bytes[at + 4] = static_cast<char>(length & 0xff);
  bytes[at + 5] = static_cast<char>(length >> 8);
}

// A record in the file's last (partial) block with at least two records
// after it.
uint64_t a_record_in_the_last_block(const std::string& bytes) {
  const auto offsets = record_offsets(bytes);
  const uint64_t last_block = bytes.size() / kBlockSize;
  for (size_t i = 0; i + 2 < offsets.size(); ++i) {
    if (offsets[i] / kBlockSize == last_block) return offsets[i];
  }
  FAIL("no record with two after it in the last block");
  return 0;
}

Result<std::unique_ptr<Engine>> reopen(const std::string& path) {
  EngineOptions options;
  options.path = path;
  return Engine::open(options);
}

void require_refused(const std::string& path, const std::string& wal) {
  auto engine = reopen(path);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.error().code == ErrorCode::kStorage);
  CHECK_THAT(engine.error().message, Catch::Contains(std::filesystem::path(wal).filename().string()));
  CHECK_THAT(engine.error().message, Catch::Contains("Nothing in it was changed"));
}

// A data dir whose WAL holds `count` synced keys, and that WAL's bytes.
struct WrittenWal {
  WrittenWal(int count, size_t value_bytes) {
    write_keys(path, count, value_bytes);
    wal = the_wal_file(path);
    bytes = read_all(wal);
  }
  TempDir dir;
  const std::string path = dir.sub("db");
  std::string wal;
  std::string bytes;
};

// Writes the damaged bytes back: the check must find the damage at `at`
// and the engine refuse to open, changing nothing.
void require_damage_found(const WrittenWal& w, uint64_t at) {
  write_all(w.wal, w.bytes);
  auto damage = find_silent_wal_damage(w.bytes);
  REQUIRE(damage);
  CHECK(damage->offset == at);
  require_refused(w.path, w.wal);
  CHECK(read_all(w.wal) == w.bytes);
}

}  // namespace

TEST_CASE("wal tail check: an intact WAL, small or over several blocks, has no damage", "[engine][wal]") {
  const size_t value_bytes = GENERATE(100, 5000);
  WrittenWal w(40, value_bytes);
  CHECK(find_silent_wal_damage(w.bytes) == std::nullopt);
  auto engine = reopen(w.path);
  REQUIRE(engine.ok());
  CHECK((*engine)->get(Space::kRaftLog, "k1039").value() == std::optional<std::string>(std::string(value_bytes, 'v')));
}

TEST_CASE("wal tail check: a last write cut by a crash is accepted and only it is lost", "[engine][wal]") {
  const uint64_t cut = GENERATE(3, 7, 500);  // in the header, just after it, in the payload
  WrittenWal w(40, 3000);                    // 4 blocks; the last record is whole in the last one
  w.bytes.resize(record_offsets(w.bytes).back() + cut);
  write_all(w.wal, w.bytes);
  CHECK(find_silent_wal_damage(w.bytes) == std::nullopt);
  auto engine = reopen(w.path);
  INFO((engine.ok() ? std::string() : engine.error().message));
  REQUIRE(engine.ok());
  CHECK((*engine)->get(Space::kRaftLog, "k1038").value().has_value());
  CHECK((*engine)->get(Space::kRaftLog, "k1039").value() == std::nullopt);
}

TEST_CASE("wal tail check: a garbled length in the last block is damage, not a cut write", "[engine][wal]") {
  const size_t value_bytes = GENERATE(100, 3000);
  WrittenWal w(40, value_bytes);
  const uint64_t at = a_record_in_the_last_block(w.bytes);
  SECTION("a length that runs past the end of the file and of its block") {
    set_length(w.bytes, at, 0xffff);
  }
  SECTION("a length that runs past the end of the file but fits its block: only the intact records behind tell") {
    set_length(w.bytes, at, kBlockSize - at % kBlockSize - kHeaderSize);
  }
  require_damage_found(w, at);
}

TEST_CASE("wal tail check: a header of zeros with records behind it in its block is damage", "[engine][wal]") {
  WrittenWal w(40, 100);
  const uint64_t at = record_offsets(w.bytes)[5];
  for (uint64_t i = 0; i < kHeaderSize; ++i) w.bytes[at + i] = 0;
  require_damage_found(w, at);
}

TEST_CASE("wal tail check: zeros to the end of the last block are a cut write", "[engine][wal]") {
  WrittenWal w(40, 100);
  w.bytes.append(300, '\0');
  CHECK(find_silent_wal_damage(w.bytes) == std::nullopt);
}

TEST_CASE("wal tail check: a recycled-log record type is damage anywhere", "[engine][wal]") {
  WrittenWal w(40, 3000);
  const uint64_t at = record_offsets(w.bytes)[2];  // in the first block, far from the tail
  w.bytes[at + 6] = 5;
  require_damage_found(w, at);
}

TEST_CASE("wal tail check: a garbled payload is left to RocksDB, which refuses it", "[engine][wal]") {
  const size_t record = GENERATE(2, 30);  // in the first block, in the last block
  WrittenWal w(40, 3000);
  const uint64_t at = record_offsets(w.bytes)[record];
  w.bytes[at + kHeaderSize + 100] ^= 0x5a;
  write_all(w.wal, w.bytes);
  CHECK(find_silent_wal_damage(w.bytes) == std::nullopt);
  auto engine = reopen(w.path);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.error().code == ErrorCode::kStorage);
  CHECK_THAT(engine.error().message, Catch::Contains("Nothing in it was changed"));
}

}  // namespace corral::storage
