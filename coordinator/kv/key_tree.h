// The key index's ordered container: key -> KeyHistory, in byte order of
// the keys. A B-tree (absl::btree_set) of 24-byte slots; each slot holds
// the key's first 16 bytes inline (big-endian, zero-padded) and a pointer
// to its entry (its history, then the whole key, in one allocation).
//
// Why: in a std::map every level of a walk is a node and a key on the heap,
// both cache misses once the index outgrows the caches (put with 1000
// clients: 10^5-10^6 new 256-byte keys, ~19 levels). Here a walk visits a
// few nodes of ~10 slots, compares the inline bytes, and reads a key's
// entry only when its first 16 bytes tie (or to confirm a hit). Keys that
// share a longer prefix (`/apps/<app>/<topic>/...`) tie and pay a read of
// the entry per compare, one miss, about what the std::map paid per level.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <absl/container/btree_set.h>

#include "coordinator/kv/key_history.h"

namespace corral::kv {

// A key and its history in one allocation: the key's bytes follow the
// struct, so a compare that reads the entry finds the key on the same
// cache lines.
class KeyEntry {
 public:
  struct Free {
    void operator()(KeyEntry* e) const;
  };
  using Owner = std::unique_ptr<KeyEntry, Free>;
  static Owner make(std::string_view key);
  KeyEntry(const KeyEntry&) = delete;  // the key's bytes would stay behind
  KeyEntry& operator=(const KeyEntry&) = delete;

  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), size_}; }
  KeyHistory history;

 private:
  KeyEntry() = default;
  size_t size_ = 0;
};

class KeyTree {
  struct Head {
    uint64_t hi = 0;  // key bytes 0..7, big-endian, zero-padded
    uint64_t lo = 0;  // key bytes 8..15
    static Head of(std::string_view key);
    auto operator<=>(const Head&) const = default;
  };
  struct Slot {
    Head head;
    KeyEntry::Owner entry;
  };
  // A key looked up, with its head computed once per walk.
  struct Probe {
    Head head;
    std::string_view key;
  };
  struct SlotOrder {
    using is_transparent = void;
    static std::string_view key_of(const Slot& s) { return s.entry->key(); }
    static std::string_view key_of(const Probe& p) { return p.key; }
    // Heads in order imply keys in the same order; equal heads say nothing
    // (a shorter key is padded with zeros), so the whole keys decide.
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.head != b.head) return a.head < b.head;
      return key_of(a) < key_of(b);
    }
  };
  using Set = absl::btree_set<Slot, SlotOrder>;

 public:
  class iterator {
   public:
    iterator() = default;
    KeyEntry& operator*() const { return *it_->entry; }
    KeyEntry* operator->() const { return it_->entry.get(); }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator==(const iterator&) const = default;

   private:
    friend class KeyTree;
    explicit iterator(Set::const_iterator it) : it_(it) {}
    Set::const_iterator it_;
  };

  KeyTree() = default;
  KeyTree(KeyTree&&) = default;
  KeyTree& operator=(KeyTree&&) = default;

  iterator begin() const { return iterator(set_.begin()); }
  iterator end() const { return iterator(set_.end()); }
  size_t size() const { return set_.size(); }

  iterator find(std::string_view key) const;
  // The first key >= `key`.
  iterator lower_bound(std::string_view key) const;
  // Adds `key` (absent) with an empty history. `hint` is lower_bound(key)
  // with no change to the tree since; then the insertion needs no walk.
  iterator insert(iterator hint, std::string_view key);
  // The entry of `key`, added with an empty history if absent; true if added.
  std::pair<iterator, bool> try_emplace(std::string_view key);
  // Removes the key at `it`; returns the one after it.
  iterator erase(iterator it);

 private:
  Set set_;
};

}  // namespace corral::kv
