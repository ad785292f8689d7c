#include "coordinator/raft/unstable_log.h"

#include <algorithm>

#include "coordinator/base/check.h"

namespace corral::raft {

std::optional<Index> UnstableLog::maybe_first_index() const {
  if (snapshot) return snapshot->metadata.index + 1;
  return std::nullopt;
}

std::optional<Index> UnstableLog::maybe_last_index() const {
  if (!entries.empty()) return offset + entries.size() - 1;
  if (snapshot) return snapshot->metadata.index;
  return std::nullopt;
}

std::optional<Term> UnstableLog::maybe_term(Index i) const {
  if (i < offset) {
    if (snapshot && snapshot->metadata.index == i) return snapshot->metadata.term;
    return std::nullopt;
  }
  const auto last = maybe_last_index();
  if (!last || i > *last) return std::nullopt;
  if (i - offset >= entries.size()) return std::nullopt;  // only the snapshot
  return entries[i - offset].term;
}

void UnstableLog::stable_to(Index i, Term t) {
  if (i < offset) return;
  const auto got = maybe_term(i);
  if (!got || *got != t) return;
  entries.erase(entries.begin(), entries.begin() + (i + 1 - offset));
  offset = i + 1;
}

void UnstableLog::stable_snap_to(Index i) {
  if (snapshot && snapshot->metadata.index == i) snapshot.reset();
}

void UnstableLog::restore(const Snapshot& snap) {
  offset = snap.metadata.index + 1;
  entries.clear();
  in_progress_to = 0;
  snapshot = snap;
}

void UnstableLog::truncate_and_append(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  const Index after = ents[0].index;
  // Entries from `after` on are new: storage must be handed them again.
  if (in_progress_to >= after) in_progress_to = after - 1;
  if (after == offset + entries.size()) {
    entries.insert(entries.end(), ents.begin(), ents.end());
  } else if (after <= offset) {
    // Replaces everything unstable; storage below `after` is truncated by the
    // application when it appends these entries.
    offset = after;
    entries = ents;
  } else {
    CORRAL_CHECK(after < offset + entries.size());
    entries.resize(after - offset);
    entries.insert(entries.end(), ents.begin(), ents.end());
  }
}

std::vector<Entry> UnstableLog::entries_to_persist() const {
  if (in_progress_to < offset) return entries;
  const size_t skip = std::min<size_t>(entries.size(), in_progress_to + 1 - offset);
  return std::vector<Entry>(entries.begin() + skip, entries.end());
}

bool UnstableLog::has_entries_to_persist() const {
  return !entries.empty() && offset + entries.size() - 1 > in_progress_to;
}

void UnstableLog::accept_in_progress() {
  if (!entries.empty()) in_progress_to = offset + entries.size() - 1;
}

std::vector<Entry> UnstableLog::slice(Index lo, Index hi) const {
  CORRAL_CHECK(offset <= lo && lo <= hi && hi <= offset + entries.size());
  return std::vector<Entry>(entries.begin() + (lo - offset), entries.begin() + (hi - offset));
}

}  // namespace corral::raft
