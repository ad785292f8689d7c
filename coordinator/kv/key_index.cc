#include "coordinator/kv/key_index.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "coordinator/base/check.h"

namespace corral::kv {
namespace {

Rev last_rev(const KeyHistory& h) {
  const Generation& g = h.generations.back();
  return g.tombstone ? *g.tombstone : g.puts.back();
}

IndexHit hit_at(const Generation& g, size_t i) {
  return IndexHit{g.puts[i], g.created, g.version - static_cast<int64_t>(g.puts.size() - 1 - i)};
}

// The put of `h` visible at revision `at`, if the key is live then.
std::optional<IndexHit> find_at(const KeyHistory& h, Revision at) {
  for (auto g = h.generations.rbegin(); g != h.generations.rend(); ++g) {
    if (g->puts.front().main > at) continue;  // born after `at`
    if (g->tombstone && g->tombstone->main <= at) return std::nullopt;
    auto after = std::upper_bound(g->puts.begin(), g->puts.end(), at,
                                  [](Revision r, const Rev& p) { return r < p.main; });
    return hit_at(*g, static_cast<size_t>(after - g->puts.begin()) - 1);
  }
  return std::nullopt;
}

}  // namespace

void KeyIndex::put(const std::string& key, Rev rev) {
  Keys::iterator it;
  bool inserted = false;
  if (hint_.valid && hint_.key == key) {
    // Nothing changed the index since get_for_put: `at` is the key itself
    // or the node the new key goes right before.
    inserted = hint_.at == keys_.end() || hint_.at->key() != key;
    it = inserted ? keys_.insert(hint_.at, key) : hint_.at;
  } else {
    std::tie(it, inserted) = keys_.try_emplace(key);
  }
  hint_.valid = false;
  KeyHistory& h = it->history;
  if (!inserted) CORRAL_CHECK(last_rev(h) < rev);
  if (inserted || h.generations.back().tombstone) {
    h.generations.push_back(Generation{rev.main, 1, {rev}, std::nullopt});
    return;
  }
  Generation& g = h.generations.back();
  g.puts.push_back(rev);
  ++g.version;
}

void KeyIndex::tombstone(const std::string& key, Rev rev) {
  hint_.valid = false;
  auto it = keys_.find(key);
  CORRAL_CHECK(it != keys_.end());
  Generation& g = it->history.generations.back();
  CORRAL_CHECK(!g.tombstone && g.puts.back() < rev);
  g.tombstone = rev;
}

void KeyIndex::undo_put(const std::string& key, Rev rev) {
  hint_.valid = false;
  auto it = keys_.find(key);
  CORRAL_CHECK(it != keys_.end());
  auto& gens = it->history.generations;
  Generation& g = gens.back();
  CORRAL_CHECK(!g.tombstone && g.puts.back() == rev);
  g.puts.pop_back();
  --g.version;
  if (g.puts.empty()) gens.pop_back();
  if (gens.empty()) keys_.erase(it);
}

void KeyIndex::undo_tombstone(const std::string& key, Rev rev) {
  hint_.valid = false;
  auto it = keys_.find(key);
  CORRAL_CHECK(it != keys_.end());
  Generation& g = it->history.generations.back();
  CORRAL_CHECK(g.tombstone && *g.tombstone == rev);
  g.tombstone.reset();
}

void KeyIndex::restore(const std::string& key, Rev rev, bool tombstone, Revision create_revision,
                       int64_t version) {
  hint_.valid = false;
  auto it = keys_.find(key);
  bool open = it != keys_.end() && !it->history.generations.back().tombstone;
  if (tombstone) {
    // Compaction never keeps a delete without the put before it; a lone one
    // ends nothing.
    if (open) it->history.generations.back().tombstone = rev;
    return;
  }
  if (it == keys_.end()) it = keys_.try_emplace(key).first;
  if (!open) {
    it->history.generations.push_back(Generation{create_revision, version, {rev}, std::nullopt});
    return;
  }
  Generation& g = it->history.generations.back();
  g.puts.push_back(rev);
  g.version = version;
}

std::optional<IndexHit> KeyIndex::get_for_put(const std::string& key, Revision at) {
  auto it = keys_.lower_bound(key);
  hint_.key = key;
  hint_.at = it;
  hint_.valid = true;
  if (it == keys_.end() || it->key() != key) return std::nullopt;
  return find_at(it->history, at);
}

std::optional<IndexHit> KeyIndex::get(std::string_view key, Revision at) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return find_at(it->history, at);
}

void KeyIndex::range(const KeyRange& range, Revision at, const Visitor& visit) const {
  if (range.single()) {
    auto it = keys_.find(range.begin());
    if (it == keys_.end()) return;
    if (auto hit = find_at(it->history, at)) visit(it->key(), *hit);
    return;
  }
  for (auto it = keys_.lower_bound(range.begin()); it != keys_.end(); ++it) {
    if (range.past_end(it->key())) return;
    if (auto hit = find_at(it->history, at)) {
      if (!visit(it->key(), *hit)) return;
    }
  }
}

void KeyIndex::changes_since(const KeyRange& range, Revision from, std::vector<IndexChange>& out) const {
  auto add_key = [&](const KeyHistory& h) {
    for (const Generation& g : h.generations) {
      if (g.tombstone && g.tombstone->main < from) continue;  // a whole life before `from`
      auto first = std::lower_bound(g.puts.begin(), g.puts.end(), Rev{from, 0});
      for (auto p = first; p != g.puts.end(); ++p) out.push_back(IndexChange{*p, false});
      if (g.tombstone) out.push_back(IndexChange{*g.tombstone, true});
    }
  };
  if (range.single()) {
    auto it = keys_.find(range.begin());
    if (it != keys_.end()) add_key(it->history);
    return;
  }
  for (auto it = keys_.lower_bound(range.begin()); it != keys_.end() && !range.past_end(it->key()); ++it) {
    add_key(it->history);
  }
}

std::optional<IndexHit> KeyIndex::previous(std::string_view key, Rev rev) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  for (const Generation& g : it->history.generations) {
    if (g.tombstone && *g.tombstone == rev) return hit_at(g, g.puts.size() - 1);
    auto pos = std::lower_bound(g.puts.begin(), g.puts.end(), rev);
    if (pos != g.puts.end() && *pos == rev) {
      if (pos == g.puts.begin()) return std::nullopt;
      return hit_at(g, static_cast<size_t>(pos - g.puts.begin()) - 1);
    }
  }
  return std::nullopt;
}

std::optional<IndexHit> KeyIndex::previous_put(std::string_view key, Revision main) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  for (const Generation& g : it->history.generations) {
    auto pos = std::lower_bound(g.puts.begin(), g.puts.end(), Rev{main, 0});
    if (pos != g.puts.end() && pos->main == main) {
      if (pos == g.puts.begin()) return std::nullopt;
      return hit_at(g, static_cast<size_t>(pos - g.puts.begin()) - 1);
    }
  }
  return std::nullopt;
}

std::vector<DirEntry> KeyIndex::list(std::string_view prefix, Revision at) const {
  std::map<std::string, DirEntry, std::less<>> names;
  auto it = keys_.lower_bound(prefix);
  while (it != keys_.end() && it->key().starts_with(prefix)) {
    std::string_view rest = it->key().substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      if (!rest.empty() && find_at(it->history, at)) {
        DirEntry& e = names[std::string(rest)];
        e.name = std::string(rest);
        e.is_key = true;
      }
      ++it;
      continue;
    }
    std::string name(rest.substr(0, slash));
    std::string sub = std::string(prefix) + name + "/";
    auto subtree_end = keys_.lower_bound(prefix_end(sub));
    bool live = false;
    for (; it != subtree_end; ++it) {
      if (find_at(it->history, at)) {
        live = true;
        break;
      }
    }
    if (live && !name.empty()) {
      DirEntry& e = names[name];
      e.name = name;
      e.is_dir = true;
    }
    it = subtree_end;
  }
  std::vector<DirEntry> out;
  out.reserve(names.size());
  for (auto& [name, entry] : names) out.push_back(std::move(entry));
  return out;
}

std::vector<RemovedRevision> KeyIndex::compact(Revision at) {
  hint_.valid = false;
  std::vector<RemovedRevision> removed;
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto& gens = it->history.generations;
    // A generation that ended below `at` is invisible at `at` and has no
    // change at `at`: all of it goes. One that ended at `at` stays, so a watch
    // from `at` still sees that delete (etcd keeps such a tombstone too).
    size_t drop_gens = 0;
    while (drop_gens < gens.size() && gens[drop_gens].tombstone &&
           gens[drop_gens].tombstone->main < at) {
      for (const Rev& r : gens[drop_gens].puts) removed.push_back({r, false});
      removed.push_back({*gens[drop_gens].tombstone, true});
      ++drop_gens;
    }
    gens.erase(gens.begin(), gens.begin() + static_cast<std::ptrdiff_t>(drop_gens));
    for (Generation& g : gens) {
      // Keep the puts at or after `at`, and the one before them: it is what a
      // read at `at` sees, or the prev_kv of the first change at `at`.
      auto& puts = g.puts;
      auto first_at = std::lower_bound(puts.begin(), puts.end(), at,
                                       [](const Rev& p, Revision r) { return p.main < r; });
      if (first_at - puts.begin() > 1) {
        for (auto p = puts.begin(); p != first_at - 1; ++p) removed.push_back({*p, false});
        puts.erase(puts.begin(), first_at - 1);
      }
    }
    if (gens.empty()) {
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace corral::kv
