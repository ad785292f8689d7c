#include "coordinator/storage/direct_io.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "coordinator/storage/engine.h"
#include "tests/unit/storage/temp_dir.h"

namespace corral::storage {
namespace {

using testing::TempDir;

std::unique_ptr<Engine> open_on_disk(const std::string& path) {
  EngineOptions options;
  options.path = path;
  auto engine = Engine::open(options);
  INFO((engine.ok() ? std::string() : engine.error().message));
  REQUIRE(engine.ok());
  return std::move(engine).value();
}

}  // namespace

TEST_CASE("direct io: the probe leaves no file, and fails where the dir cannot exist", "[engine]") {
  TempDir dir;
  const bool works = direct_io_works(dir.sub("data"));
  INFO("O_DIRECT on " << dir.path() << ": " << works);
  CHECK(std::filesystem::is_directory(dir.sub("data")));
  CHECK(std::filesystem::is_empty(dir.sub("data")));
  std::ofstream(dir.sub("file")) << "x";
  CHECK_FALSE(direct_io_works(dir.sub("file") + "/data"));
}

TEST_CASE("direct io: table files are written with O_DIRECT where the file system takes it, and read back",
          "[engine]") {
  TempDir dir;
  const bool works = direct_io_works(dir.sub("probe"));
  const std::string value(1000, 'v');
  {
    auto engine = open_on_disk(dir.sub("db"));
    CHECK(engine->direct_table_writes() == works);
    // Several flushes, then a compaction: both write table files.
    for (int round = 0; round < 3; ++round) {
      WriteBatch batch;
      for (int i = 0; i < 2000; ++i) batch.put(Space::kKv, "k" + std::to_string(round * 2000 + i), value);
      REQUIRE(engine->write_unlogged(std::move(batch)).ok());
      REQUIRE(engine->flush().ok());
    }
    REQUIRE(engine->compact_space(Space::kKv).ok());
  }
  auto engine = open_on_disk(dir.sub("db"));
  auto it = engine->scan(Space::kKv, "k", "l");
  int n = 0;
  for (; it->valid(); it->next()) {
    ++n;
    if (it->value() != value) break;
  }
  REQUIRE(it->status().ok());
  CHECK(n == 6000);
}

TEST_CASE("direct io: an in-memory engine writes no table file directly", "[engine]") {
  EngineOptions options;
  options.in_memory = true;
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  CHECK_FALSE(engine.value()->direct_table_writes());
}

}  // namespace corral::storage
