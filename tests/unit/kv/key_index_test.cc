#include <catch2/catch.hpp>

#include "coordinator/kv/key_index.h"

using namespace corral::kv;

TEST_CASE("key index finds the revision visible at a revision", "[key_index]") {
  KeyIndex idx;
  idx.put("k", {2, 0});
  idx.put("k", {4, 0});
  idx.tombstone("k", {6, 0});
  idx.put("k", {8, 1});

  CHECK_FALSE(idx.get("k", 1));
  auto at3 = idx.get("k", 3);
  REQUIRE(at3);
  CHECK(at3->rev == Rev{2, 0});
  CHECK(at3->version == 1);
  CHECK(at3->create_revision == 2);
  auto at5 = idx.get("k", 5);
  REQUIRE(at5);
  CHECK(at5->rev == Rev{4, 0});
  CHECK(at5->version == 2);
  CHECK_FALSE(idx.get("k", 6));
  CHECK_FALSE(idx.get("k", 7));
  auto at8 = idx.get("k", 8);
  REQUIRE(at8);
  CHECK(at8->version == 1);
  CHECK(at8->create_revision == 8);

  CHECK_FALSE(idx.previous("k", {2, 0}));
  CHECK(idx.previous("k", {4, 0})->rev == Rev{2, 0});
  CHECK(idx.previous("k", {6, 0})->rev == Rev{4, 0});
  CHECK_FALSE(idx.previous("k", {8, 1}));
}

TEST_CASE("key index undo restores the exact prior state", "[key_index]") {
  KeyIndex idx;
  idx.put("k", {1, 0});
  idx.put("k", {2, 0});
  idx.tombstone("k", {2, 1});
  idx.put("k", {2, 2});
  idx.undo_put("k", {2, 2});
  CHECK_FALSE(idx.get("k", 2));
  idx.undo_tombstone("k", {2, 1});
  REQUIRE(idx.get("k", 2));
  CHECK(idx.get("k", 2)->version == 2);
  idx.undo_put("k", {2, 0});
  idx.undo_put("k", {1, 0});
  CHECK(idx.key_count() == 0);
}

TEST_CASE("key index compaction keeps what reads at or after it need", "[key_index]") {
  KeyIndex idx;
  idx.put("a", {1, 0});
  idx.put("a", {2, 0});
  idx.put("a", {5, 0});
  idx.put("b", {3, 0});
  idx.tombstone("b", {4, 0});
  idx.put("c", {3, 1});
  idx.tombstone("c", {6, 0});

  auto list = [](const std::vector<RemovedRevision>& removed) {
    std::vector<std::pair<Rev, bool>> got;
    for (auto& r : removed) got.emplace_back(r.rev, r.tombstone);
    return got;
  };
  // a@1 superseded by a@2; b's delete at 4 is a change at the compaction
  // point (a watch from 4 gets it, with its prev_kv b@3): b stays whole;
  // c keeps its put (deleted after 4).
  std::vector<std::pair<Rev, bool>> want = {{{1, 0}, false}};
  CHECK(list(idx.compact(4)) == want);
  CHECK(idx.get("a", 4)->rev == Rev{2, 0});
  CHECK(idx.get("a", 5)->rev == Rev{5, 0});
  CHECK(idx.get("a", 5)->version == 3);
  CHECK_FALSE(idx.get("b", 4));
  CHECK(idx.previous("b", {4, 0})->rev == Rev{3, 0});
  CHECK(idx.key_count() == 3);
  CHECK(idx.get("c", 5)->rev == Rev{3, 1});
  CHECK(idx.previous("c", {6, 0})->rev == Rev{3, 1});

  // One past b's delete: b goes. a@2 stays as the prev_kv of a@5, the
  // change at the new point.
  want = {{{3, 0}, false}, {{4, 0}, true}};
  CHECK(list(idx.compact(5)) == want);
  CHECK(idx.key_count() == 2);
  CHECK(idx.previous("a", {5, 0})->rev == Rev{2, 0});
  want = {{{2, 0}, false}};
  CHECK(list(idx.compact(6)) == want);
  CHECK(idx.get("a", 6)->version == 3);
}

TEST_CASE("key index compaction keeps every change of the compaction point", "[key_index]") {
  KeyIndex idx;
  idx.put("k", {1, 0});
  idx.put("k", {2, 0});
  idx.put("k", {3, 0});     // one revision: put, delete, put again
  idx.tombstone("k", {3, 1});
  idx.put("k", {3, 2});
  std::vector<RemovedRevision> removed = idx.compact(3);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].rev == Rev{1, 0});
  CHECK(idx.previous("k", {3, 0})->rev == Rev{2, 0});
  CHECK(idx.previous("k", {3, 1})->rev == Rev{3, 0});
  CHECK_FALSE(idx.previous("k", {3, 2}));  // it created the key anew
  CHECK(idx.get("k", 3)->rev == Rev{3, 2});
  CHECK(idx.get("k", 3)->version == 1);
}
