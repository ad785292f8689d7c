#include "coordinator/raft/raft_log.h"

#include <algorithm>

#include "coordinator/base/check.h"

namespace corral::raft {

RaftLog::RaftLog(const LogStorage* storage) : storage_(storage) {
  CORRAL_CHECK(storage_ != nullptr);
  unstable_.offset = storage_->last_index() + 1;
  committed_ = storage_->first_index() - 1;
  applied_ = committed_;
}

Index RaftLog::first_index() const {
  if (auto i = unstable_.maybe_first_index()) return *i;
  return storage_->first_index();
}

Index RaftLog::last_index() const {
  if (auto i = unstable_.maybe_last_index()) return *i;
  return storage_->last_index();
}

Result<Term> RaftLog::term(Index i) const {
  const Index dummy = first_index() - 1;
  if (i < dummy) return Status::kCompacted;
  if (i > last_index()) return Status::kUnavailable;
  if (auto t = unstable_.maybe_term(i)) return *t;
  return storage_->term(i);
}

Term RaftLog::term_or_zero(Index i) const {
  auto t = term(i);
  return t.ok() ? t.value() : 0;
}

Term RaftLog::last_term() const {
  auto t = term(last_index());
  CORRAL_CHECK(t.ok());
  return t.value();
}

bool RaftLog::match_term(Index i, Term t) const {
  auto got = term(i);
  return got.ok() && got.value() == t;
}

bool RaftLog::is_up_to_date(Index lasti, Term t) const {
  const Term our = last_term();
  return t > our || (t == our && lasti >= last_index());
}

std::optional<Index> RaftLog::maybe_append(Index index, Term log_term, Index leader_commit,
                                           const std::vector<Entry>& ents) {
  if (!match_term(index, log_term)) return std::nullopt;
  const Index last_new = index + ents.size();
  const Index ci = find_conflict(ents);
  if (ci != 0) {
    // A leader never asks to overwrite a committed entry (log matching).
    CORRAL_CHECK_MSG(ci > committed_, "append conflicts with a committed entry");
    const size_t from = ci - (index + 1);
    append(std::vector<Entry>(ents.begin() + from, ents.end()));
  }
  commit_to(std::min(leader_commit, last_new));
  return last_new;
}

Index RaftLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return last_index();
  CORRAL_CHECK_MSG(ents[0].index > committed_, "append below the commit index");
  unstable_.truncate_and_append(ents);
  return last_index();
}

Index RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<Index, Term> RaftLog::find_conflict_by_term(Index index, Term t) const {
  for (; index > 0; --index) {
    auto our = term(index);
    if (!our.ok()) return {index, 0};  // compacted or beyond our log: no hint
    if (our.value() <= t) return {index, our.value()};
  }
  return {0, 0};
}

Result<std::vector<Entry>> RaftLog::slice(Index lo, Index hi, uint64_t max_bytes) const {
  if (lo < first_index()) return Status::kCompacted;
  if (hi > last_index() + 1 || lo > hi) return Status::kUnavailable;
  std::vector<Entry> out;
  if (lo == hi) return out;
  if (lo < unstable_.offset) {
    auto stored = storage_->entries(lo, std::min(hi, unstable_.offset), max_bytes);
    if (!stored.ok()) return stored.status();
    out = std::move(stored).value();
    if (out.size() < std::min(hi, unstable_.offset) - lo) return out;  // hit max_bytes
  }
  if (hi > unstable_.offset) {
    uint64_t bytes = 0;
    for (const Entry& e : out) bytes += e.data.size();
    for (const Entry& e : unstable_.slice(std::max(lo, unstable_.offset), hi)) {
      bytes += e.data.size();
      if (!out.empty() && bytes > max_bytes) break;
      out.push_back(e);
    }
  }
  return out;
}

Result<std::vector<Entry>> RaftLog::entries_from(Index i, uint64_t max_bytes) const {
  if (i > last_index()) return std::vector<Entry>{};
  return slice(i, last_index() + 1, max_bytes);
}

Result<Snapshot> RaftLog::snapshot() const {
  if (unstable_.snapshot) return *unstable_.snapshot;
  return storage_->snapshot();
}

Index RaftLog::persisted_index() const {
  if (unstable_.snapshot) return 0;
  if (unstable_.entries.empty()) return last_index();
  return unstable_.offset - 1;
}

bool RaftLog::has_next_committed_entries(bool allow_unpersisted) const {
  const Index off = std::max(applied_ + 1, first_index());
  const Index hi = allow_unpersisted ? committed_ : std::min(committed_, persisted_index());
  return hi + 1 > off;
}

std::vector<Entry> RaftLog::next_committed_entries(uint64_t max_bytes, bool allow_unpersisted) const {
  if (!has_next_committed_entries(allow_unpersisted)) return {};
  const Index off = std::max(applied_ + 1, first_index());
  const Index hi = allow_unpersisted ? committed_ : std::min(committed_, persisted_index());
  auto ents = slice(off, hi + 1, max_bytes);
  CORRAL_CHECK_MSG(ents.ok(), "committed entries unavailable");
  return std::move(ents).value();
}

void RaftLog::commit_to(Index i) {
  if (i <= committed_) return;
  CORRAL_CHECK_MSG(i <= last_index(), "commit index past the last index");
  committed_ = i;
}

bool RaftLog::maybe_commit(Index max_index, Term t) {
  if (max_index > committed_ && term_or_zero(max_index) == t) {
    commit_to(max_index);
    return true;
  }
  return false;
}

void RaftLog::applied_to(Index i) {
  if (i == 0 || i <= applied_) return;
  CORRAL_CHECK_MSG(i <= committed_, "applied past the commit index");
  applied_ = i;
}

void RaftLog::restore(const Snapshot& snap) {
  committed_ = snap.metadata.index;
  unstable_.restore(snap);
}

void RaftLog::restore_persisted(const Snapshot& snap) {
  restore(snap);
  unstable_.stable_snap_to(snap.metadata.index);
  applied_ = std::max(applied_, snap.metadata.index);
}

}  // namespace corral::raft
