#include "coordinator/storage/raft_log_store.h"

#include <algorithm>
#include <utility>

#include "coordinator/base/check.h"

namespace corral::storage {

namespace {

constexpr char kHardStateKey[] = "hard_state";
constexpr char kConfStateKey[] = "conf_state";
constexpr char kSnapshotKey[] = "snapshot";
constexpr char kLogStartKey[] = "log_start";
constexpr size_t kLogKeyBytes = 8;
// Bytes charged per cached entry besides its data (struct, deque slot).
constexpr uint64_t kCacheEntryOverheadBytes = 64;

uint64_t cache_cost(const raft::Entry& e) { return e.data.size() + kCacheEntryOverheadBytes; }

Error corrupt(std::string what) {
  return make_error(ErrorCode::kStorage, "raft log store: " + std::move(what));
}

template <typename T, typename Decode>
corral::Result<std::optional<T>> load(Engine* engine, const char* key, Decode decode) {
  auto raw = engine->get(Space::kRaftMeta, key);
  if (!raw.ok()) return raw.error();
  if (!raw.value()) return std::optional<T>();
  auto decoded = decode(*raw.value());
  if (!decoded.ok()) return corrupt(std::string(key) + ": " + decoded.error().message);
  return std::optional<T>(std::move(decoded).value());
}

}  // namespace

std::string log_key(raft::Index index) {
  std::string key(kLogKeyBytes, '\0');
  for (size_t i = 0; i < kLogKeyBytes; ++i) {
    key[i] = static_cast<char>((index >> (8 * (kLogKeyBytes - 1 - i))) & 0xff);
  }
  return key;
}

std::optional<raft::Index> parse_log_key(std::string_view key) {
  if (key.size() != kLogKeyBytes) return std::nullopt;
  raft::Index index = 0;
  for (char c : key) index = (index << 8) | static_cast<uint8_t>(c);
  return index;
}

RaftLogStore::RaftLogStore(Engine* engine, RaftLogStoreOptions options)
    : engine_(engine), options_(options) {}

corral::Result<std::unique_ptr<RaftLogStore>> RaftLogStore::open(Engine* engine,
                                                                 RaftLogStoreOptions options) {
  CORRAL_CHECK(engine != nullptr);
  auto store = std::unique_ptr<RaftLogStore>(new RaftLogStore(engine, options));
  State& s = store->visible_;

  auto hs = load<raft::HardState>(engine, kHardStateKey, decode_hard_state);
  if (!hs.ok()) return hs.error();
  if (hs.value()) s.hard_state = *hs.value();
  auto cs = load<raft::ConfState>(engine, kConfStateKey, decode_conf_state);
  if (!cs.ok()) return cs.error();
  if (cs.value()) s.conf_state = *cs.value();
  auto snap = load<raft::SnapshotMetadata>(engine, kSnapshotKey, decode_snapshot_metadata);
  if (!snap.ok()) return snap.error();
  if (snap.value()) s.snapshot = *snap.value();
  auto start = load<LogMark>(engine, kLogStartKey, decode_log_mark);
  if (!start.ok()) return start.error();
  if (start.value()) s.start = *start.value();

  // Replay the whole log once: it checks that the log is exactly the keys
  // start+1..last, rebuilds the term runs, and fills the tail cache.
  s.last = s.start.index;
  auto it = engine->scan(Space::kRaftLog, "", "");
  for (; it->valid(); it->next()) {
    auto index = parse_log_key(it->key());
    if (!index) return corrupt("log key of " + std::to_string(it->key().size()) + " bytes");
    if (*index != s.last + 1) {
      return corrupt("log has index " + std::to_string(*index) + " where " +
                     std::to_string(s.last + 1) + " was expected");
    }
    auto entry = decode_entry(it->value());
    if (!entry.ok()) return corrupt("entry " + std::to_string(*index) + ": " + entry.error().message);
    if (entry.value().index != *index) {
      return corrupt("entry under key " + std::to_string(*index) + " has index " +
                     std::to_string(entry.value().index));
    }
    if (s.runs.empty() || s.runs.back().term != entry.value().term) {
      s.runs.push_back(TermRun{*index, entry.value().term});
    }
    s.last = *index;
    store->cache_push(std::move(entry).value());
    store->cache_evict();
  }
  if (auto st = it->status(); !st.ok()) return st.error();
  return store;
}

raft::InitialState RaftLogStore::initial_state() const {
  return raft::InitialState{visible_.hard_state, visible_.conf_state};
}

raft::Index RaftLogStore::first_index() const { return visible_.start.index + 1; }

raft::Index RaftLogStore::last_index() const { return visible_.last; }

raft::Result<raft::Term> RaftLogStore::term(raft::Index i) const { return term_in(visible_, i); }

raft::Result<raft::Term> RaftLogStore::term_in(const State& s, raft::Index i) {
  if (i < s.start.index) return raft::Status::kCompacted;
  if (i > s.last) return raft::Status::kUnavailable;
  if (i == s.start.index) return s.start.term;
  auto after = std::upper_bound(s.runs.begin(), s.runs.end(), i,
                                [](raft::Index i, const TermRun& r) { return i < r.first; });
  CORRAL_CHECK(after != s.runs.begin());
  return std::prev(after)->term;
}

raft::Result<std::vector<raft::Entry>> RaftLogStore::entries(raft::Index lo, raft::Index hi,
                                                             uint64_t max_bytes) const {
  if (lo < first_index()) return raft::Status::kCompacted;
  if (hi > visible_.last + 1 || lo > hi) return raft::Status::kUnavailable;
  std::vector<raft::Entry> out;
  uint64_t bytes = 0;
  const raft::Index cache_first = cache_.empty() ? visible_.last + 1 : cache_.front().index;
  if (lo < cache_first) {
    read_from_engine(lo, std::min(hi, cache_first), max_bytes, bytes, out);
    if (out.size() < std::min(hi, cache_first) - lo) return out;  // byte limit reached
  }
  for (raft::Index i = std::max(lo, cache_first); i < hi; ++i) {
    const raft::Entry& e = cache_[i - cache_first];
    bytes += e.data.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

void RaftLogStore::read_from_engine(raft::Index lo, raft::Index hi, uint64_t max_bytes,
                                    uint64_t& bytes, std::vector<raft::Entry>& out) const {
  auto it = engine_->scan(Space::kRaftLog, log_key(lo), log_key(hi));
  raft::Index expected = lo;
  for (; it->valid() && expected < hi; it->next(), ++expected) {
    CORRAL_CHECK_MSG(parse_log_key(it->key()) == expected, "raft log has a hole");
    auto entry = decode_entry(it->value());
    CORRAL_CHECK_MSG(entry.ok(), "raft log entry does not decode");
    CORRAL_CHECK_MSG(entry.value().index == expected, "raft log entry under the wrong key");
    bytes += entry.value().data.size();
    if (!out.empty() && bytes > max_bytes) return;
    out.push_back(std::move(entry).value());
  }
  CORRAL_CHECK_MSG(it->status().ok(), it->status().error().message.c_str());
  CORRAL_CHECK_MSG(expected == hi, "raft log is shorter than last_index");
}

raft::Result<raft::Snapshot> RaftLogStore::snapshot() const {
  const raft::SnapshotMetadata& meta = visible_.snapshot;
  if (meta.index == 0) return raft::Snapshot{meta, {}};
  if (!snapshot_source_) return raft::Status::kSnapshotTemporarilyUnavailable;
  auto snap = snapshot_source_(meta);
  if (!snap.ok() || snap->metadata.index == 0 || snap->metadata.index > meta.index) {
    return raft::Status::kSnapshotTemporarilyUnavailable;
  }
  return std::move(snap).value();
}

void RaftLogStore::set_snapshot_source(SnapshotSource source) {
  snapshot_source_ = std::move(source);
}

const RaftLogStore::State& RaftLogStore::latest() const {
  if (staged_) return *staged_;
  return sealed_.empty() ? visible_ : sealed_.back().state;
}

RaftLogStore::State& RaftLogStore::staged() {
  if (!staged_) staged_ = latest();
  return *staged_;
}

void RaftLogStore::truncate_runs(State& s, raft::Index after) {
  while (!s.runs.empty() && s.runs.back().first > after) s.runs.pop_back();
}

void RaftLogStore::append_runs(State& s, const std::vector<raft::Entry>& entries, size_t from) {
  for (size_t i = from; i < entries.size(); ++i) {
    if (s.runs.empty() || s.runs.back().term != entries[i].term) {
      s.runs.push_back(TermRun{entries[i].index, entries[i].term});
    }
  }
}

corral::Status RaftLogStore::stage_append(WriteBatch& batch,
                                          const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return {};
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != entries[0].index + i) {
      return make_error(ErrorCode::kUnavailable,
                        "append: entries not consecutive at " + std::to_string(entries[i].index));
    }
  }
  const State& current = latest();
  const raft::Index first = current.start.index + 1;
  const raft::Index last_new = entries[0].index + entries.size() - 1;
  if (last_new < first) return {};  // all already compacted
  const size_t skip = first > entries[0].index ? first - entries[0].index : 0;
  const raft::Index start = entries[skip].index;
  if (start > current.last + 1) {
    return make_error(ErrorCode::kUnavailable, "append at " + std::to_string(start) +
                                                   " leaves a gap after " +
                                                   std::to_string(current.last));
  }

  State& s = staged();
  for (size_t i = skip; i < entries.size(); ++i) {
    batch.put(Space::kRaftLog, log_key(entries[i].index), encode_entry(entries[i]));
  }
  if (last_new < s.last) {
    batch.delete_range(Space::kRaftLog, log_key(last_new + 1), log_key(s.last + 1));
  }
  truncate_runs(s, start - 1);
  append_runs(s, entries, skip);
  s.last = last_new;
  staged_cache_ops_.push_back(
      CacheAppend{std::vector<raft::Entry>(entries.begin() + static_cast<ptrdiff_t>(skip),
                                           entries.end())});
  return {};
}

void RaftLogStore::stage_hard_state(WriteBatch& batch, const raft::HardState& hs) {
  batch.put(Space::kRaftMeta, kHardStateKey, encode_hard_state(hs));
  staged().hard_state = hs;
}

void RaftLogStore::stage_conf_state(WriteBatch& batch, const raft::ConfState& cs) {
  batch.put(Space::kRaftMeta, kConfStateKey, encode_conf_state(cs));
  staged().conf_state = cs;
}

corral::Status RaftLogStore::stage_apply_snapshot(WriteBatch& batch,
                                                  const raft::SnapshotMetadata& meta) {
  const State& current = latest();
  if (meta.index <= current.snapshot.index) {
    return make_error(ErrorCode::kCompacted,
                      "apply snapshot: index " + std::to_string(meta.index) +
                          " is not newer than snapshot " + std::to_string(current.snapshot.index));
  }
  State& s = staged();
  if (s.last > s.start.index) {
    batch.delete_range(Space::kRaftLog, log_key(s.start.index + 1), log_key(s.last + 1));
  }
  const LogMark start{meta.index, meta.term};
  batch.put(Space::kRaftMeta, kLogStartKey, encode_log_mark(start));
  batch.put(Space::kRaftMeta, kSnapshotKey, encode_snapshot_metadata(meta));
  batch.put(Space::kRaftMeta, kConfStateKey, encode_conf_state(meta.conf_state));
  s.snapshot = meta;
  s.conf_state = meta.conf_state;
  s.start = start;
  s.last = meta.index;
  s.runs.clear();
  staged_cache_ops_.push_back(CacheReset{});
  return {};
}

corral::Result<raft::SnapshotMetadata> RaftLogStore::stage_create_snapshot(
    WriteBatch& batch, raft::Index i, const raft::ConfState& cs) {
  const State& current = latest();
  if (i <= current.snapshot.index) {
    return make_error(ErrorCode::kCompacted, "create snapshot: index " + std::to_string(i) +
                                                 " is not newer than snapshot " +
                                                 std::to_string(current.snapshot.index));
  }
  if (i > current.last) {
    return make_error(ErrorCode::kUnavailable, "create snapshot: index " + std::to_string(i) +
                                                   " is past the last index " +
                                                   std::to_string(current.last));
  }
  auto t = term_in(current, i);
  if (!t.ok()) {
    return make_error(ErrorCode::kCompacted,
                      "create snapshot: index " + std::to_string(i) + " is compacted");
  }
  raft::SnapshotMetadata meta{i, t.value(), cs};
  batch.put(Space::kRaftMeta, kSnapshotKey, encode_snapshot_metadata(meta));
  batch.put(Space::kRaftMeta, kConfStateKey, encode_conf_state(cs));
  State& s = staged();
  s.snapshot = meta;
  s.conf_state = cs;
  return meta;
}

corral::Status RaftLogStore::stage_compact(WriteBatch& batch, raft::Index index) {
  const State& current = latest();
  if (index <= current.start.index) {
    return make_error(ErrorCode::kCompacted, "compact: " + std::to_string(index) +
                                                 " is already compacted (first index " +
                                                 std::to_string(current.start.index + 1) + ")");
  }
  if (index > current.last) {
    return make_error(ErrorCode::kUnavailable, "compact: " + std::to_string(index) +
                                                   " is past the last index " +
                                                   std::to_string(current.last));
  }
  auto t = term_in(current, index);
  CORRAL_CHECK(t.ok());
  State& s = staged();
  batch.delete_range(Space::kRaftLog, log_key(s.start.index + 1), log_key(index + 1));
  s.start = LogMark{index, t.value()};
  batch.put(Space::kRaftMeta, kLogStartKey, encode_log_mark(s.start));
  // Keep only the runs that still cover entries after the new start.
  size_t drop = 0;
  while (drop + 1 < s.runs.size() && s.runs[drop + 1].first <= index + 1) ++drop;
  s.runs.erase(s.runs.begin(), s.runs.begin() + static_cast<ptrdiff_t>(drop));
  if (index == s.last) {
    s.runs.clear();
  } else if (!s.runs.empty()) {
    s.runs.front().first = std::max(s.runs.front().first, index + 1);
  }
  staged_cache_ops_.push_back(CacheCompact{index});
  return {};
}

void RaftLogStore::on_written() {
  CORRAL_CHECK_MSG(sealed_.empty(), "raft log store: a synchronous write while sealed writes are in flight");
  if (!staged_) return;
  State state = std::move(*staged_);
  staged_.reset();
  make_visible(std::move(state), staged_cache_ops_);
  staged_cache_ops_.clear();
}

void RaftLogStore::abandon_staged() {
  staged_.reset();
  staged_cache_ops_.clear();
}

bool RaftLogStore::seal_staged() {
  if (!staged_) return false;
  sealed_.push_back(Sealed{std::move(*staged_), std::move(staged_cache_ops_)});
  staged_.reset();
  staged_cache_ops_.clear();
  return true;
}

void RaftLogStore::on_sealed_written() {
  CORRAL_CHECK_MSG(!sealed_.empty(), "raft log store: no sealed write in flight");
  // Staged changes built on this write stay staged on top of it.
  Sealed done = std::move(sealed_.front());
  sealed_.pop_front();
  make_visible(std::move(done.state), done.cache_ops);
}

void RaftLogStore::make_visible(State state, std::vector<CacheOp>& cache_ops) {
  visible_ = std::move(state);
  for (CacheOp& op : cache_ops) apply_cache_op(op);
  cache_evict();
  CORRAL_CHECK(cache_.empty() || cache_.back().index == visible_.last);
}

void RaftLogStore::apply_cache_op(CacheOp& op) {
  if (auto* append = std::get_if<CacheAppend>(&op)) {
    const raft::Index start = append->entries.front().index;
    while (!cache_.empty() && cache_.back().index >= start) {
      cache_bytes_ -= cache_cost(cache_.back());
      cache_.pop_back();
    }
    // An empty cache may restart anywhere; a non-empty one stays contiguous.
    CORRAL_CHECK(cache_.empty() || cache_.back().index + 1 == start);
    for (auto& e : append->entries) cache_push(std::move(e));
  } else if (std::holds_alternative<CacheReset>(op)) {
    cache_.clear();
    cache_bytes_ = 0;
  } else {
    const raft::Index index = std::get<CacheCompact>(op).index;
    while (!cache_.empty() && cache_.front().index <= index) {
      cache_bytes_ -= cache_cost(cache_.front());
      cache_.pop_front();
    }
  }
}

void RaftLogStore::cache_push(raft::Entry entry) {
  cache_bytes_ += cache_cost(entry);
  cache_.push_back(std::move(entry));
}

void RaftLogStore::cache_evict() {
  while (!cache_.empty() && cache_bytes_ > options_.cache_bytes) {
    cache_bytes_ -= cache_cost(cache_.front());
    cache_.pop_front();
  }
}

}  // namespace corral::storage
