// The pieces of a follower's snapshot install that decide what a data dir
// holds after a crash (install_intent.h, snapshot_installer.h): the intent
// file round-trips and a damaged one is refused; the state is replaced
// whole (old keys gone, every image record there); and an intent left by
// a stop is replayed at start: committed or not, half loaded or not, the
// result is the snapshot's state and raft record, and the intent goes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "coordinator/server/install_intent.h"
#include "coordinator/server/snapshot_installer.h"
#include "coordinator/server/state_image.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"
#include "tests/unit/server/test_env.h"

using namespace corral;
using namespace corral::server;
using storage::Space;

namespace {

std::string image_of(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string image(kImageMagic);
  for (const auto& [k, v] : kv) append_image_record(image, Space::kKv, k, v);
  append_image_record(image, Space::kKvMeta, "meta", "new");
  image.push_back(static_cast<char>(kImageEnd));
  return image;
}

raft::SnapshotMetadata meta_at(raft::Index index) {
  raft::SnapshotMetadata md;
  md.index = index;
  md.term = 2;
  md.conf_state.voters = {1, 2, 3};
  return md;
}

std::optional<std::string> get(storage::Engine& e, Space space, const std::string& key) {
  auto r = e.get(space, key);
  REQUIRE(r.ok());
  return *r;
}

struct DataDir {
  std::string dir;
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<storage::RaftLogStore> store;

  explicit DataDir(const std::string& name) : dir(testing::temp_dir("snapinstall", name)) {
    std::filesystem::create_directories(dir);
    storage::EngineOptions eo;
    eo.path = dir + "/db";
    engine = std::move(storage::Engine::open(eo)).value();
    store = std::move(storage::RaftLogStore::open(engine.get())).value();
  }
  ~DataDir() {
    store.reset();
    engine.reset();
    std::filesystem::remove_all(dir);
  }
  void put_old_state() {
    storage::WriteBatch b;
    b.put(Space::kKv, "old-key", "old");
    b.put(Space::kKv, "shared", "old");
    b.put(Space::kKvMeta, "meta", "old");
    b.put(Space::kLease, "lease-old", "x");
    REQUIRE(engine->write(std::move(b), true).ok());
  }
  void check_new_state() {
    CHECK_FALSE(get(*engine, Space::kKv, "old-key"));
    CHECK_FALSE(get(*engine, Space::kLease, "lease-old"));
    CHECK(get(*engine, Space::kKv, "shared") == std::optional<std::string>("new"));
    CHECK(get(*engine, Space::kKv, "k2") == std::optional<std::string>("v2"));
    CHECK(get(*engine, Space::kKvMeta, "meta") == std::optional<std::string>("new"));
  }
};

const std::vector<std::pair<std::string, std::string>> kImageKeys = {{"shared", "new"}, {"k2", "v2"}};

}  // namespace

TEST_CASE("install intent: round trip, missing, damaged", "[snapshot_install]") {
  const std::string dir = testing::temp_dir("snapinstall", "intent");
  std::filesystem::create_directories(dir);
  const std::string path = install_intent_path(dir);
  CHECK(read_install_intent(path).error().code == ErrorCode::kNotFound);
  const std::string image = image_of(kImageKeys);
  REQUIRE(write_install_intent(path, meta_at(42), image).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  auto back = read_install_intent(path);
  REQUIRE(back.ok());
  CHECK(back->meta.index == 42);
  CHECK(back->meta.term == 2);
  CHECK(back->meta.conf_state.voters == std::vector<raft::NodeId>{1, 2, 3});
  CHECK(back->image == image);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "CRLINST1\xff\xff";  // a metadata length past the end
  }
  CHECK(read_install_intent(path).error().code == ErrorCode::kBadRequest);
  REQUIRE(remove_install_intent(path).ok());
  REQUIRE(remove_install_intent(path).ok());  // gone already: fine
  std::filesystem::remove_all(dir);
}

TEST_CASE("install: the state is replaced whole, in chunks", "[snapshot_install]") {
  DataDir d("load");
  d.put_old_state();
  // More records than one chunk takes, so several writes are needed.
  std::vector<std::pair<std::string, std::string>> many = kImageKeys;
  for (size_t i = 0; i < kInstallChunkRecords + 10; ++i) many.emplace_back("many/" + std::to_string(i), "v");
  const std::string image = image_of(many);
  auto records = parse_state_image(image);
  REQUIRE(records.ok());
  REQUIRE(load_state_image(*d.engine, *records, nullptr).ok());
  d.check_new_state();
  CHECK(get(*d.engine, Space::kKv, "many/" + std::to_string(kInstallChunkRecords + 9)));
  // A cancel between two writes stops it with kUnavailable.
  std::atomic<bool> cancel{true};
  CHECK(load_state_image(*d.engine, *records, &cancel).error().code == ErrorCode::kUnavailable);
}

TEST_CASE("install: an interrupted install is finished at start", "[snapshot_install]") {
  const std::string image = image_of(kImageKeys);
  SECTION("stopped before the commit, the state half loaded") {
    DataDir d("before-commit");
    d.put_old_state();
    REQUIRE(write_install_intent(install_intent_path(d.dir), meta_at(50), image).ok());
    storage::WriteBatch half;  // part of the load happened
    half.del(Space::kKv, "old-key");
    REQUIRE(d.engine->write_unlogged(std::move(half)).ok());
    REQUIRE(finish_interrupted_install(*d.engine, *d.store, install_intent_path(d.dir)).ok());
    d.check_new_state();
    CHECK(d.store->snapshot_metadata().index == 50);
    CHECK(d.store->first_index() == 51);
    CHECK_FALSE(std::filesystem::exists(install_intent_path(d.dir)));
  }
  SECTION("stopped after the commit: the state is loaded again, not committed twice") {
    DataDir d("after-commit");
    d.put_old_state();
    REQUIRE(write_install_intent(install_intent_path(d.dir), meta_at(50), image).ok());
    REQUIRE(commit_install(*d.engine, *d.store, meta_at(50)).ok());
    REQUIRE(finish_interrupted_install(*d.engine, *d.store, install_intent_path(d.dir)).ok());
    d.check_new_state();
    CHECK(d.store->snapshot_metadata().index == 50);
    CHECK_FALSE(std::filesystem::exists(install_intent_path(d.dir)));
  }
  SECTION("an intent older than the store's snapshot is only removed") {
    DataDir d("older");
    d.put_old_state();
    REQUIRE(commit_install(*d.engine, *d.store, meta_at(60)).ok());
    REQUIRE(write_install_intent(install_intent_path(d.dir), meta_at(50), image).ok());
    REQUIRE(finish_interrupted_install(*d.engine, *d.store, install_intent_path(d.dir)).ok());
    CHECK(get(*d.engine, Space::kKv, "old-key") == std::optional<std::string>("old"));
    CHECK(d.store->snapshot_metadata().index == 60);
    CHECK_FALSE(std::filesystem::exists(install_intent_path(d.dir)));
  }
  SECTION("no intent: nothing happens") {
    DataDir d("none");
    d.put_old_state();
    REQUIRE(finish_interrupted_install(*d.engine, *d.store, install_intent_path(d.dir)).ok());
    CHECK(get(*d.engine, Space::kKv, "old-key") == std::optional<std::string>("old"));
  }
  SECTION("a damaged intent refuses the start") {
    DataDir d("damaged");
    {
      std::ofstream out(install_intent_path(d.dir), std::ios::binary);
      out << "not an intent";
    }
    CHECK(finish_interrupted_install(*d.engine, *d.store, install_intent_path(d.dir)).error().code ==
          ErrorCode::kStorage);
  }
}
