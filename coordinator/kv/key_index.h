// The in-memory index of the key space: key -> generations of revisions
// (etcd's keyIndex/treeIndex). Values live in space kKv under revision keys;
// the index says which revision of a key is visible at a given revision, so
// a read is one lookup here plus one point read per returned key.
//
// The keys are kept in a KeyTree (key_tree.h), a B-tree whose slots hold
// each key's first bytes inline; each key's history is a KeyHistory
// (key_history.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/kv/key_history.h"
#include "coordinator/kv/key_range.h"
#include "coordinator/kv/key_tree.h"
#include "coordinator/kv/key_value.h"
#include "coordinator/kv/revision_key.h"

namespace corral::kv {

// What the index knows of one key at one revision.
struct IndexHit {
  Rev rev;  // the put visible at that revision
  Revision create_revision = 0;
  int64_t version = 0;
};

// A revision that compaction dropped: its revision key is to be deleted.
struct RemovedRevision {
  Rev rev;
  bool tombstone = false;
};

// One name directly below a directory (see KeyIndex::list).
struct DirEntry {
  std::string name;
  bool is_key = false;  // `<dir>/<name>` is a live key
  bool is_dir = false;  // some live key starts with `<dir>/<name>/`
  bool operator==(const DirEntry&) const = default;
};

// One change of a key as the index knows it: a put or the delete that ended
// a generation.
struct IndexChange {
  Rev rev;
  bool tombstone = false;
};

class KeyIndex {
 public:
  using Visitor = std::function<bool(std::string_view key, const IndexHit& hit)>;

  // A put of `key` at `rev`, newer than every revision the key has.
  void put(const std::string& key, Rev rev);
  // A delete of a live `key` at `rev`.
  void tombstone(const std::string& key, Rev rev);
  // Exact inverses of the latest put / tombstone of `key` (txn rollback).
  void undo_put(const std::string& key, Rev rev);
  void undo_tombstone(const std::string& key, Rev rev);
  // Startup: replays one stored record; records arrive in revision order.
  // Stored create_revision and version survive compaction of older puts.
  void restore(const std::string& key, Rev rev, bool tombstone, Revision create_revision,
               int64_t version);

  std::optional<IndexHit> get(std::string_view key, Revision at) const;
  // As get, for a put of `key` that follows (WriteTxn::do_put): remembers
  // where the key is or would go, so that put(key) right after needs no
  // second walk of the tree. Any other change to the index forgets it.
  std::optional<IndexHit> get_for_put(const std::string& key, Revision at);
  // Calls visit for every key of `range` live at `at`, in key order, until it returns false.
  void range(const KeyRange& range, Revision at, const Visitor& visit) const;
  // The put of `key` just before `rev` in the same generation (the prev_kv
  // of the change at `rev`); nullopt when `rev` created the generation.
  std::optional<IndexHit> previous(std::string_view key, Rev rev) const;
  // As previous, for the put of `key` at main revision `main` (a key is put
  // at most once in a revision); nullopt if there is none.
  std::optional<IndexHit> previous_put(std::string_view key, Revision main) const;
  // Appends every change of a key of `range` at a main revision >= from, in
  // no particular order. Walks only the keys of the range.
  void changes_since(const KeyRange& range, Revision from, std::vector<IndexChange>& out) const;
  // Names directly below `prefix` (which ends in '/') live at `at`, sorted.
  // Walks only the index, and seeks past each subdirectory once it is known
  // to hold a live key.
  std::vector<DirEntry> list(std::string_view prefix, Revision at) const;

  // Drops every revision below `at` that neither a read at a revision >= at
  // nor a watch from `at` needs (etcd: a watch from the compact revision is
  // served). Per generation of a key: one that a delete below `at` ended goes
  // whole; any other keeps its puts at or after `at` and the one put before
  // them (what a read at `at` sees, or the prev_kv of the first change at
  // `at`), and its delete. Returns what was dropped, in key order.
  std::vector<RemovedRevision> compact(Revision at);

  size_t key_count() const { return keys_.size(); }  // keys with any retained history

 private:
  using Keys = KeyTree;
  // Where get_for_put left `key`: `at` is its lower bound then. The one
  // lookup per put it saves was ~half of the index's share of a follower's
  // CPU at 1000 clients (256-byte keys, 10^5-10^6 of them). A moved index
  // starts without one.
  struct PutHint {
    std::string key;
    Keys::iterator at;
    bool valid = false;
    PutHint() = default;
    PutHint(const PutHint&) {}
    PutHint& operator=(const PutHint&) {
      valid = false;
      return *this;
    }
  };
  Keys keys_;
  PutHint hint_;
};

}  // namespace corral::kv
