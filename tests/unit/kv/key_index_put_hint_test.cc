// KeyIndex::get_for_put remembers where a key is or goes, for the put of
// that key right after. The index must end up exactly as without the hint,
// whatever comes between: another key's put, a delete, an undo or a
// compaction that erases the remembered node.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "coordinator/kv/key_index.h"

using namespace corral::kv;

namespace {

// Every key live at `at`, with what the index says of it.
std::vector<std::pair<std::string, Rev>> live(const KeyIndex& idx, Revision at) {
  std::vector<std::pair<std::string, Rev>> out;
  auto all = KeyRange::make("/", prefix_end("/"));
  REQUIRE(all.ok());
  idx.range(*all, at, [&](std::string_view k, const IndexHit& hit) {
    out.emplace_back(k, hit.rev);
    return true;
  });
  return out;
}

}  // namespace

TEST_CASE("a put after get_for_put of its key, new or existing, is an ordinary put", "[key_index]") {
  KeyIndex idx;
  CHECK_FALSE(idx.get_for_put("/b", 1));
  idx.put("/b", {1, 0});
  CHECK_FALSE(idx.get_for_put("/a", 2));  // goes before the hinted node
  idx.put("/a", {2, 0});
  CHECK_FALSE(idx.get_for_put("/c", 3));  // goes at the end
  idx.put("/c", {3, 0});
  auto b = idx.get_for_put("/b", 4);
  REQUIRE(b);
  CHECK(b->rev == Rev{1, 0});
  idx.put("/b", {4, 0});
  CHECK(idx.key_count() == 3);
  CHECK(live(idx, 4) == std::vector<std::pair<std::string, Rev>>{{"/a", {2, 0}}, {"/b", {4, 0}}, {"/c", {3, 0}}});
  CHECK(idx.get("/b", 4)->version == 2);
}

TEST_CASE("a hint whose node was erased is not used", "[key_index]") {
  KeyIndex idx;
  idx.put("/a", {1, 0});
  idx.put("/b", {2, 0});
  SECTION("by an undo") {
    REQUIRE(idx.get_for_put("/a", 3));
    idx.undo_put("/a", {1, 0});  // erases /a's node
    idx.put("/a", {3, 0});
  }
  SECTION("by a compaction") {
    idx.tombstone("/a", {3, 0});
    REQUIRE_FALSE(idx.get_for_put("/a", 4));
    idx.compact(4);  // drops /a whole
    idx.put("/a", {4, 0});
  }
  auto a = idx.get("/a", 10);
  REQUIRE(a);
  CHECK(a->version == 1);
  CHECK(idx.key_count() == 2);
}

TEST_CASE("puts with and without get_for_put build the same index", "[key_index]") {
  std::mt19937 rng(12);
  KeyIndex hinted, plain;
  Revision rev = 0;
  for (int step = 0; step < 5000; ++step) {
    ++rev;
    const std::string key = "/k" + std::to_string(rng() % 300);
    const std::string other = "/k" + std::to_string(rng() % 300);
    (void)hinted.get_for_put(key, rev);
    const auto now = plain.get(key, rev);
    switch (rng() % 4) {
      case 0:  // another key's put comes between
        hinted.put(other, {rev, 0});
        plain.put(other, {rev, 0});
        if (other != key) {
          hinted.put(key, {rev, 1});
          plain.put(key, {rev, 1});
        }
        break;
      case 1:  // the key is deleted instead
        if (now) {
          hinted.tombstone(key, {rev, 0});
          plain.tombstone(key, {rev, 0});
        }
        break;
      default:
        hinted.put(key, {rev, 0});
        plain.put(key, {rev, 0});
        break;
    }
    if (step % 1000 == 999) {
      hinted.compact(rev - 100);
      plain.compact(rev - 100);
    }
  }
  CHECK(hinted.key_count() == plain.key_count());
  CHECK(live(hinted, rev) == live(plain, rev));
  CHECK(live(hinted, rev - 50) == live(plain, rev - 50));
}
