#include "coordinator/raft/memory_storage.h"

#include <utility>

namespace corral::raft {

MemoryStorage::MemoryStorage() : ents_(1) {}

InitialState MemoryStorage::initial_state() const {
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

Index MemoryStorage::first_index() const { return ents_[0].index + 1; }

Index MemoryStorage::last_index() const { return ents_[0].index + ents_.size() - 1; }

Result<Term> MemoryStorage::term(Index i) const {
  const Index offset = ents_[0].index;
  if (i < offset) return Status::kCompacted;
  if (i - offset >= ents_.size()) return Status::kUnavailable;
  return ents_[i - offset].term;
}

Result<std::vector<Entry>> MemoryStorage::entries(Index lo, Index hi, uint64_t max_bytes) const {
  const Index offset = ents_[0].index;
  if (lo <= offset) return Status::kCompacted;
  if (hi > last_index() + 1 || lo > hi) return Status::kUnavailable;
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = ents_[i - offset];
    bytes += e.data.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<Snapshot> MemoryStorage::snapshot() const { return snapshot_; }

void MemoryStorage::set_hard_state(const HardState& hs) { hard_state_ = hs; }

void MemoryStorage::set_conf_state(const ConfState& cs) { snapshot_.metadata.conf_state = cs; }

Status MemoryStorage::apply_snapshot(const Snapshot& snap) {
  if (snap.metadata.index <= snapshot_.metadata.index) return Status::kCompacted;
  snapshot_ = snap;
  ents_.assign(1, Entry{snap.metadata.term, snap.metadata.index, EntryType::kNormal, {}});
  return Status::kOk;
}

Status MemoryStorage::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return Status::kOk;
  for (size_t i = 1; i < ents.size(); ++i) {
    if (ents[i].index != ents[0].index + i) return Status::kUnavailable;
  }
  const Index first = first_index();
  const Index last_new = ents[0].index + ents.size() - 1;
  if (last_new < first) return Status::kOk;  // all already compacted
  const size_t skip = first > ents[0].index ? first - ents[0].index : 0;
  const Index start = ents[skip].index;
  const Index offset = start - ents_[0].index;
  if (offset > ents_.size()) return Status::kUnavailable;  // would leave a gap
  ents_.resize(offset);
  ents_.insert(ents_.end(), ents.begin() + skip, ents.end());
  return Status::kOk;
}

Status MemoryStorage::compact(Index compact_index) {
  const Index offset = ents_[0].index;
  if (compact_index <= offset) return Status::kCompacted;
  if (compact_index > last_index()) return Status::kUnavailable;
  const size_t i = compact_index - offset;
  Entry dummy{ents_[i].term, ents_[i].index, EntryType::kNormal, {}};
  ents_.erase(ents_.begin(), ents_.begin() + i);
  ents_[0] = std::move(dummy);
  return Status::kOk;
}

Result<Snapshot> MemoryStorage::create_snapshot(Index i, const ConfState& cs, std::string data) {
  if (i <= snapshot_.metadata.index) return Status::kCompacted;
  if (i > last_index()) return Status::kUnavailable;
  auto t = term(i);
  if (!t.ok()) return t.status();
  snapshot_.metadata.index = i;
  snapshot_.metadata.term = t.value();
  snapshot_.metadata.conf_state = cs;
  snapshot_.data = std::move(data);
  return snapshot_;
}

}  // namespace corral::raft
