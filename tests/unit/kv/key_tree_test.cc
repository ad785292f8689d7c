// KeyTree (the key index's B-tree with 16-byte inline heads) must order,
// find and erase keys exactly as a std::map of the same keys does, above
// all where heads tie: keys that share their first 16 bytes, keys shorter
// than 16 bytes (padded with zeros) against keys holding real zero bytes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "coordinator/kv/key_tree.h"

using namespace corral::kv;

namespace {

std::vector<std::string> keys_in_order(const KeyTree& tree) {
  std::vector<std::string> out;
  for (auto it = tree.begin(); it != tree.end(); ++it) out.emplace_back(it->key());
  return out;
}

// Keys around the 16-byte head: shared prefixes of 14 to 18 bytes, then a
// short tail of bytes that sort at the edges ('\0', 0xff) or in between.
std::string random_key(std::mt19937& rng) {
  static const std::string prefixes[] = {"", "/", "/apps/web/access", "/apps/web/accessX/",
                                         "/apps/web/acces", std::string("/apps/web/access\0", 17)};
  static const char tail_bytes[] = {'\0', 'a', 'b', '/', '\xff'};
  std::string key = prefixes[rng() % std::size(prefixes)];
  const size_t tail = rng() % 4;
  for (size_t i = 0; i < tail; ++i) key.push_back(tail_bytes[rng() % std::size(tail_bytes)]);
  return key;
}

}  // namespace

TEST_CASE("key tree: keys whose heads tie are ordered by their whole bytes", "[key_tree]") {
  const std::string z(1, '\0');
  std::vector<std::string> keys = {"",
                                   "a",
                                   "a" + z,
                                   "a" + z + z,
                                   "a" + z + "b",
                                   "ab",
                                   "0123456789abcdef",              // exactly 16 bytes
                                   "0123456789abcdef" + z,          // 17, its head the same
                                   "0123456789abcdefg",
                                   "0123456789abcdef\xff",
                                   "0123456789abcdee\xff\xff",
                                   std::string(16, '\xff'),
                                   std::string(16, '\xff') + "x",
                                   std::string(15, '\xff'),
                                   z,
                                   z + z};
  std::vector<std::string> shuffled = keys;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  KeyTree tree;
  for (const std::string& k : shuffled) {
    auto [it, added] = tree.try_emplace(k);
    CHECK(added);
    CHECK(it->key() == k);
  }
  std::sort(keys.begin(), keys.end());
  CHECK(keys_in_order(tree) == keys);
  for (const std::string& k : keys) {
    auto it = tree.find(k);
    REQUIRE(it != tree.end());
    CHECK(it->key() == k);
    CHECK_FALSE(tree.try_emplace(k).second);
  }
  CHECK(tree.find("a" + z + z + z) == tree.end());
  CHECK(tree.lower_bound("a" + z + z + z)->key() == "a" + z + "b");
  CHECK(tree.lower_bound("0123456789abcdef" + z + z)->key() == "0123456789abcdefg");
  CHECK(tree.size() == keys.size());
}

TEST_CASE("key tree against a std::map model: seeded random inserts, hinted inserts, erases, lookups",
          "[key_tree]") {
  const unsigned seed = GENERATE(1u, 2u, 3u);
  std::mt19937 rng(seed);
  KeyTree tree;
  std::map<std::string, int> model;  // key -> the value kept in its history's size
  for (int step = 0; step < 20000; ++step) {
    const std::string key = random_key(rng);
    switch (rng() % 5) {
      case 0:
      case 1: {  // insert at the position lower_bound gave, as KeyIndex::put does
        auto at = tree.lower_bound(key);
        auto want = model.lower_bound(key);
        REQUIRE((at == tree.end()) == (want == model.end()));
        if (at != tree.end()) REQUIRE(at->key() == want->first);
        if (at == tree.end() || at->key() != key) {
          auto it = tree.insert(at, key);
          it->history.generations.resize(1);
          model[key] = 1;
        }
        break;
      }
      case 2: {
        auto [it, added] = tree.try_emplace(key);
        REQUIRE(added == !model.contains(key));
        if (added) it->history.generations.resize(1);
        model.try_emplace(key, 1);
        break;
      }
      case 3: {  // erase, and check what follows
        auto it = tree.find(key);
        REQUIRE((it != tree.end()) == model.contains(key));
        if (it == tree.end()) break;
        auto next = tree.erase(it);
        auto want = model.erase(model.find(key));
        REQUIRE((next == tree.end()) == (want == model.end()));
        if (next != tree.end()) REQUIRE(next->key() == want->first);
        break;
      }
      default: {
        auto it = tree.find(key);
        REQUIRE((it != tree.end()) == model.contains(key));
        if (it != tree.end()) REQUIRE(it->history.generations.size() == 1);
        break;
      }
    }
    REQUIRE(tree.size() == model.size());
    if (step % 2000 == 1999) {
      std::vector<std::string> want;
      for (auto& [k, v] : model) want.push_back(k);
      REQUIRE(keys_in_order(tree) == want);
    }
  }
}
