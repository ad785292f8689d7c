// KeyIndex against a plain model, seeded and bounded: each key's changes
// kept in a std::map in key order, every answer computed by brute force.
// Random puts (with and without get_for_put), deletes, undos of the last
// change (a txn rolled back), compactions, checked with range, list, get,
// previous and changes_since at random revisions not yet compacted. Keys
// share prefixes around the B-tree's 16-byte inline head.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "coordinator/kv/key_index.h"

using namespace corral::kv;

namespace {

struct Change {
  Rev rev;
  bool tombstone = false;
};

// Brute force over every change of a key, in revision order.
class Model {
 public:
  std::map<std::string, std::vector<Change>> keys;

  // The put visible at `at`, its create revision and version.
  std::optional<IndexHit> get(const std::string& key, Revision at) const {
    auto it = keys.find(key);
    if (it == keys.end()) return std::nullopt;
    std::optional<IndexHit> hit;
    for (const Change& c : it->second) {
      if (c.rev.main > at) break;
      if (c.tombstone) {
        hit.reset();
      } else if (hit) {
        hit = IndexHit{c.rev, hit->create_revision, hit->version + 1};
      } else {
        hit = IndexHit{c.rev, c.rev.main, 1};
      }
    }
    return hit;
  }
  bool live(const std::string& key) const {
    auto it = keys.find(key);
    return it != keys.end() && !it->second.empty() && !it->second.back().tombstone;
  }
  // Drops the lives a delete below `at` ended (the puts a compaction trims
  // from the others change no answer at or after `at`).
  void compact(Revision at) {
    for (auto it = keys.begin(); it != keys.end();) {
      auto& changes = it->second;
      size_t keep_from = 0;
      for (size_t i = 0; i < changes.size(); ++i) {
        if (changes[i].tombstone && changes[i].rev.main < at) keep_from = i + 1;
      }
      changes.erase(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(keep_from));
      it = changes.empty() ? keys.erase(it) : std::next(it);
    }
  }
};

std::string random_key(std::mt19937& rng) {
  static const std::string dirs[] = {"/apps/web/access/", "/apps/web/acces/", "/apps/web/accessX",
                                     "/a/", "/"};
  static const char bytes[] = {'\0', 'a', 'b', '/', '\xff'};
  std::string key = dirs[rng() % std::size(dirs)];
  const size_t tail = 1 + rng() % 3;
  for (size_t i = 0; i < tail; ++i) key.push_back(bytes[rng() % std::size(bytes)]);
  return key;
}

void check_reads(const KeyIndex& idx, const Model& model, Revision at, std::mt19937& rng) {
  std::vector<std::pair<std::string, IndexHit>> got, want;
  auto all = KeyRange::make("/", prefix_end("/"));
  REQUIRE(all.ok());
  idx.range(*all, at, [&](std::string_view k, const IndexHit& hit) {
    got.emplace_back(k, hit);
    return true;
  });
  for (auto& [k, changes] : model.keys) {
    if (auto hit = model.get(k, at)) want.emplace_back(k, *hit);
  }
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].first == want[i].first);
    REQUIRE(got[i].second.rev == want[i].second.rev);
    REQUIRE(got[i].second.create_revision == want[i].second.create_revision);
    REQUIRE(got[i].second.version == want[i].second.version);
  }
  // A bounded range starting between keys.
  const std::string from = random_key(rng);
  auto bounded = KeyRange::make(from, "/apps/web/accessY");
  if (bounded.ok()) {
    std::vector<std::string> in_range, want_in_range;
    idx.range(*bounded, at, [&](std::string_view k, const IndexHit&) {
      in_range.emplace_back(k);
      return true;
    });
    for (auto& [k, hit] : want) {
      if (k >= from && k < "/apps/web/accessY") want_in_range.push_back(k);
    }
    REQUIRE(in_range == want_in_range);
  }
  // list of one directory: direct children that are keys, and subdirectories.
  static const std::string dirs[] = {"/", "/a/", "/apps/web/", "/apps/web/access/"};
  const std::string& dir = dirs[rng() % std::size(dirs)];
  std::map<std::string, DirEntry> names;
  for (auto& [k, hit] : want) {
    if (!k.starts_with(dir)) continue;
    std::string rest = k.substr(dir.size());
    size_t slash = rest.find('/');
    std::string name = rest.substr(0, slash);
    if (name.empty()) continue;
    DirEntry& e = names[name];
    e.name = name;
    if (slash == std::string::npos) e.is_key = true; else e.is_dir = true;
  }
  std::vector<DirEntry> want_list;
  for (auto& [n, e] : names) want_list.push_back(e);
  REQUIRE(idx.list(dir, at) == want_list);
  // get, previous and changes_since of a few keys.
  for (int i = 0; i < 5; ++i) {
    const std::string key = random_key(rng);
    auto hit = idx.get(key, at);
    auto model_hit = model.get(key, at);
    REQUIRE(hit.has_value() == model_hit.has_value());
    if (hit) REQUIRE(hit->rev == model_hit->rev);
    auto it = model.keys.find(key);
    std::vector<Rev> since, want_since;
    auto single = KeyRange::make(key, "");
    REQUIRE(single.ok());
    std::vector<IndexChange> changes;
    idx.changes_since(*single, at, changes);
    for (auto& c : changes) since.push_back(c.rev);
    if (it != model.keys.end()) {
      for (const Change& c : it->second) {
        if (c.rev.main >= at) want_since.push_back(c.rev);
      }
      // previous of the newest change, if at or after `at` (compaction
      // keeps the put before each change it keeps): the put before it in
      // its life.
      const Change& last = it->second.back();
      auto prev = idx.previous(key, last.rev);
      auto before = model.get(key, last.rev.main - 1);
      bool same_revision_before = it->second.size() > 1 && it->second[it->second.size() - 2].rev.main == last.rev.main;
      if (last.rev.main >= at && !same_revision_before) {
        bool created = !last.tombstone && !before;
        REQUIRE(prev.has_value() == !created);
        if (prev && before) REQUIRE(prev->rev == before->rev);
      }
    }
    std::sort(since.begin(), since.end());
    REQUIRE(since == want_since);
  }
}

}  // namespace

TEST_CASE("key index against a brute-force model: seeded random puts, deletes, undos, compactions",
          "[key_index]") {
  const unsigned seed = GENERATE(11u, 12u, 13u);
  std::mt19937 rng(seed);
  KeyIndex idx;
  Model model;
  Revision rev = 0, compacted = 0;
  for (int step = 0; step < 4000; ++step) {
    ++rev;
    const std::string key = random_key(rng);
    const unsigned op = rng() % 10;
    if (op < 6) {
      if (op < 3) (void)idx.get_for_put(key, rev);
      idx.put(key, {rev, 0});
      model.keys[key].push_back({{rev, 0}, false});
      if (op == 0) {  // rolled back, as a failed txn undoes its put
        idx.undo_put(key, {rev, 0});
        model.keys[key].pop_back();
        if (model.keys[key].empty()) model.keys.erase(key);
      }
    } else if (op < 9) {
      if (!model.live(key)) continue;
      idx.tombstone(key, {rev, 0});
      model.keys[key].push_back({{rev, 0}, true});
      if (op == 8) {
        idx.undo_tombstone(key, {rev, 0});
        model.keys[key].pop_back();
      }
    } else if (rev - compacted > 50) {
      compacted = rev - static_cast<Revision>(rng() % 40);
      idx.compact(compacted);
      model.compact(compacted);
    }
    REQUIRE(idx.key_count() == model.keys.size());
    if (step % 50 == 0) {
      const Revision at = compacted + static_cast<Revision>(rng() % static_cast<uint64_t>(rev - compacted + 1));
      check_reads(idx, model, std::max<Revision>(at, 1), rng);
      check_reads(idx, model, rev, rng);
    }
  }
}
