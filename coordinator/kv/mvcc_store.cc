#include "coordinator/kv/mvcc_store.h"

#include <map>

#include <algorithm>
#include <utility>

#include "coordinator/base/check.h"
#include "coordinator/kv/limits.h"
#include "coordinator/kv/revision_key.h"
#include "coordinator/kv/txn_check.h"

namespace corral::kv {

using storage::Space;

// ---- MvccStore: open, reads -------------------------------------------------

Result<std::unique_ptr<MvccStore>> MvccStore::open(storage::Engine& engine) {
  std::unique_ptr<MvccStore> store(new MvccStore(engine));
  if (auto st = store->restore(); !st.ok()) return st.error();
  return store;
}

Status MvccStore::restore() {
  auto raw = engine_.get(Space::kKvMeta, kKvStateKey);
  if (!raw.ok()) return raw.error();
  if (raw->has_value()) {
    auto state = decode_kv_state(**raw);
    if (!state.ok()) return state.error();
    state_ = *state;
  }
  Revision last = 0;
  // Records come in revision order, so each key's newest decides its lease.
  std::map<std::string, LeaseId, std::less<>> leased;
  auto it = engine_.scan(Space::kKv, "", "");
  for (; it->valid(); it->next()) {
    auto rk = decode_revision_key(it->key());
    if (!rk) return make_error(ErrorCode::kStorage, "space kKv holds a key that is not a revision key");
    auto kv = decode_key_value(it->value());
    if (!kv.ok()) return kv.error();
    index_.restore(kv->key, rk->rev, rk->tombstone, kv->create_revision, kv->version);
    if (rk->tombstone || kv->lease == 0) {
      if (auto l = leased.find(kv->key); l != leased.end()) leased.erase(l);
    } else {
      leased.insert_or_assign(kv->key, kv->lease);
    }
    last = rk->rev.main;
  }
  if (auto st = it->status(); !st.ok()) return st;
  leased_at_open_.reserve(leased.size());
  for (auto& [key, lease] : leased) leased_at_open_.emplace_back(lease, key);
  if (last > state_.current_revision) {
    return make_error(ErrorCode::kStorage, "space kKv holds revision " + std::to_string(last) +
                                               " beyond the stored current revision " +
                                               std::to_string(state_.current_revision));
  }
  return {};
}

Status MvccStore::check_read_revision(Revision revision) const {
  if (revision < 0) return make_error(ErrorCode::kBadRequest, "revision is negative");
  if (revision > state_.current_revision) {
    Error e = make_error(ErrorCode::kFutureRevision,
                         "revision " + std::to_string(revision) + " is newer than the current revision " +
                             std::to_string(state_.current_revision));
    e.revision = state_.current_revision;
    return e;
  }
  if (revision < state_.compact_revision) {
    Error e = make_error(ErrorCode::kCompacted, "revision " + std::to_string(revision) +
                                                    " is compacted; the compact revision is " +
                                                    std::to_string(state_.compact_revision));
    e.revision = state_.compact_revision;
    return e;
  }
  return {};
}

const MvccStore::StagedRecord* MvccStore::find_unwritten(Rev rev) const {
  auto it = std::lower_bound(unwritten_.begin(), unwritten_.end(), rev,
                             [](const StagedRecord& r, Rev wanted) { return r.rev < wanted; });
  return it != unwritten_.end() && it->rev == rev ? &*it : nullptr;
}

Result<KeyValue> MvccStore::read_record(Rev rev, const WriteTxn* txn) const {
  if (txn) {
    if (auto it = txn->change_at_.find(rev); it != txn->change_at_.end()) {
      return txn->changes_[it->second].event.kv;
    }
  }
  if (const auto* staged = find_unwritten(rev)) return staged->kv;
  auto raw = engine_.get(Space::kKv, revision_key(rev));
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) {
    return make_error(ErrorCode::kStorage, "the index names revision " + std::to_string(rev.main) + "." +
                                               std::to_string(rev.sub) + " but kKv has no record");
  }
  return decode_key_value(**raw);
}

Result<KeyValue> MvccStore::read_change(Rev rev, bool tombstone) const {
  if (!tombstone) return read_record(rev, nullptr);
  if (const auto* staged = find_unwritten(rev)) return staged->kv;
  auto raw = engine_.get(Space::kKv, revision_key(rev, true));
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) {
    return make_error(ErrorCode::kStorage, "the index names a delete at revision " + std::to_string(rev.main) +
                                               " but kKv has no record");
  }
  return decode_key_value(**raw);
}

Result<RangeResult> MvccStore::range_in(const KeyRange& range, const RangeOptions& options,
                                        Revision at, Revision answered, const WriteTxn* txn) const {
  if (options.limit < 0) return make_error(ErrorCode::kBadRequest, "limit is negative");
  RangeResult out;
  out.revision = answered;
  std::vector<Rev> revs;
  auto limit = static_cast<uint64_t>(options.limit);
  index_.range(range, at, [&](std::string_view, const IndexHit& hit) {
    ++out.count;
    if (!options.count_only && (limit == 0 || revs.size() < limit)) revs.push_back(hit.rev);
    return true;
  });
  out.more = limit != 0 && static_cast<uint64_t>(out.count) > limit;
  out.kvs.reserve(revs.size());
  for (Rev rev : revs) {
    auto kv = read_record(rev, txn);
    if (!kv.ok()) return kv.error();
    if (options.keys_only) kv->value.clear();
    out.kvs.push_back(std::move(*kv));
  }
  return out;
}

Result<RangeResult> MvccStore::range(std::string_view key, std::string_view range_end,
                                     const RangeOptions& options) const {
  auto range = KeyRange::make(key, range_end);
  if (!range.ok()) return range.error();
  Revision at = options.revision == 0 ? state_.current_revision : options.revision;
  if (auto st = check_read_revision(at); !st.ok()) return st.error();
  return range_in(*range, options, at, state_.current_revision, nullptr);
}

Result<ListResult> MvccStore::list(std::string_view dir, Revision revision) const {
  if (dir.empty()) return make_error(ErrorCode::kBadRequest, "directory is empty");
  if (dir.size() > kMaxKeyBytes) {
    return make_error(ErrorCode::kTooLarge, "directory is " + std::to_string(dir.size()) +
                                                " bytes, the limit is " + std::to_string(kMaxKeyBytes));
  }
  Revision at = revision == 0 ? state_.current_revision : revision;
  if (auto st = check_read_revision(at); !st.ok()) return st.error();
  std::string prefix(dir);
  if (prefix.back() != '/') prefix.push_back('/');
  return ListResult{index_.list(prefix, at), state_.current_revision};
}

Result<std::vector<RevisionEvents>> MvccStore::events(Revision from, std::string_view key,
                                                      std::string_view range_end,
                                                      size_t max_events) const {
  auto range = KeyRange::make(key, range_end);
  if (!range.ok()) return range.error();
  if (max_events == 0 || max_events > kMaxHistoryEventsPerRead) {
    return make_error(ErrorCode::kBadRequest, "max_events must be in [1, " +
                                                  std::to_string(kMaxHistoryEventsPerRead) + "]");
  }
  if (from < 1) return make_error(ErrorCode::kBadRequest, "from revision must be at least 1");
  // Like range and etcd's watch: the compaction point itself is still known.
  if (from < state_.compact_revision) {
    Error e = make_error(ErrorCode::kCompacted, "revision " + std::to_string(from) +
                                                    " is compacted; the compact revision is " +
                                                    std::to_string(state_.compact_revision));
    e.revision = state_.compact_revision;
    return e;
  }
  EventCollector collect(*this, *range, max_events);
  // Every change matches a range of all keys, so a scan in revision order
  // stops after max_events records; any narrower range is served from the
  // index, which reads only its own keys' history (a scan could visit every
  // revision of every other key first).
  auto st = range->unbounded() && range->begin() == kRangeEndAll ? events_by_scan(from, collect)
                                                                  : events_by_index(from, *range, collect);
  if (!st.ok()) return st.error();
  return collect.take();
}

Status MvccStore::events_by_scan(Revision from, EventCollector& collect) const {
  // Staged records are newer than every written one: scan the engine below them.
  std::string upper = unwritten_.empty() ? std::string() : revision_key(unwritten_.front().rev);
  auto it = engine_.scan(Space::kKv, revision_key_lower(from), upper);
  for (; it->valid(); it->next()) {
    auto rk = decode_revision_key(it->key());
    if (!rk) return make_error(ErrorCode::kStorage, "space kKv holds a key that is not a revision key");
    auto kv = decode_key_value(it->value());
    if (!kv.ok()) return kv.error();
    auto more = collect.add(rk->rev, rk->tombstone, std::move(*kv));
    if (!more.ok()) return more.error();
    if (!*more) return Status();
  }
  if (auto st = it->status(); !st.ok()) return st.error();
  auto u = std::lower_bound(unwritten_.begin(), unwritten_.end(), Rev{from, 0},
                            [](const StagedRecord& r, Rev wanted) { return r.rev < wanted; });
  for (; u != unwritten_.end(); ++u) {
    auto more = collect.add(u->rev, u->tombstone, u->kv);
    if (!more.ok()) return more.error();
    if (!*more) return Status();
  }
  return Status();
}

Status MvccStore::events_by_index(Revision from, const KeyRange& range, EventCollector& collect) const {
  std::vector<IndexChange> changes;
  index_.changes_since(range, from, changes);
  auto by_rev = [](const IndexChange& a, const IndexChange& b) { return a.rev < b.rev; };
  // Only the earliest whole revisions that hold max_events changes are read:
  // select them in linear time, then sort just those.
  const size_t want = collect.max_events();
  if (changes.size() > want) {
    std::nth_element(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(want - 1), changes.end(), by_rev);
    const Revision last = changes[want - 1].rev.main;
    auto kept = std::partition(changes.begin() + static_cast<std::ptrdiff_t>(want), changes.end(),
                               [&](const IndexChange& c) { return c.rev.main <= last; });
    changes.erase(kept, changes.end());
  }
  std::sort(changes.begin(), changes.end(), by_rev);
  for (const auto& c : changes) {
    auto kv = read_change(c.rev, c.tombstone);
    if (!kv.ok()) return kv.error();
    auto more = collect.add(c.rev, c.tombstone, std::move(*kv));
    if (!more.ok()) return more.error();
    if (!*more) break;
  }
  return Status();
}

Result<std::optional<KeyValue>> MvccStore::previous_kv(std::string_view key, Revision revision) const {
  auto prev = index_.previous_put(key, revision);
  if (!prev) return std::optional<KeyValue>();
  auto kv = read_record(prev->rev, nullptr);
  if (!kv.ok()) return kv.error();
  return std::optional<KeyValue>(std::move(*kv));
}

Result<bool> MvccStore::EventCollector::add(Rev rev, bool tombstone, KeyValue kv) {
  if (gathered_ >= max_events_ && rev.main != out_.back().revision) return false;
  if (!range_.contains(kv.key)) return true;
  Event ev;
  ev.type = tombstone ? Event::Type::kDelete : Event::Type::kPut;
  if (auto prev = store_.index_.previous(kv.key, rev)) {
    auto pkv = store_.read_record(prev->rev, nullptr);
    if (!pkv.ok()) return pkv.error();
    ev.prev_kv = std::move(*pkv);
  }
  ev.kv = std::move(kv);
  if (out_.empty() || out_.back().revision != rev.main) out_.push_back(RevisionEvents{rev.main, {}});
  out_.back().events.push_back(std::move(ev));
  ++gathered_;
  return true;
}

// ---- MvccStore: writes, compaction ------------------------------------------

WriteTxn MvccStore::begin_write(uint64_t raft_index) {
  CORRAL_CHECK_MSG(!write_open_, "one write txn at a time");
  CORRAL_CHECK_MSG(raft_index >= state_.applied_index, "applied index went backwards");
  write_open_ = true;
  return WriteTxn(this, raft_index);
}

void MvccStore::stage_state(storage::WriteBatch& batch) const {
  batch.put(Space::kKvMeta, kKvStateKey, encode_kv_state(state_));
}

void MvccStore::record_applied_index(uint64_t raft_index, storage::WriteBatch& batch) {
  CORRAL_CHECK_MSG(!write_open_, "a write txn is open");
  CORRAL_CHECK_MSG(raft_index >= state_.applied_index, "applied index went backwards");
  state_.applied_index = raft_index;
  stage_state(batch);
}

Status MvccStore::compact(Revision revision, storage::WriteBatch& batch) {
  CORRAL_CHECK_MSG(!write_open_, "a write txn is open");
  if (revision < 1) return make_error(ErrorCode::kBadRequest, "compact revision must be at least 1");
  if (revision <= state_.compact_revision) {
    Error e = make_error(ErrorCode::kCompacted, "revision " + std::to_string(revision) +
                                                    " is already compacted; the compact revision is " +
                                                    std::to_string(state_.compact_revision));
    e.revision = state_.compact_revision;
    return e;
  }
  if (revision > state_.current_revision) {
    Error e = make_error(ErrorCode::kFutureRevision,
                         "cannot compact at " + std::to_string(revision) +
                             ", newer than the current revision " + std::to_string(state_.current_revision));
    e.revision = state_.current_revision;
    return e;
  }
  std::vector<Rev> dropped_staged;
  for (const RemovedRevision& r : index_.compact(revision)) {
    batch.del(Space::kKv, revision_key(r.rev, r.tombstone));
    if (find_unwritten(r.rev) != nullptr) dropped_staged.push_back(r.rev);
  }
  // One pass over the staged records, however many compaction dropped.
  std::sort(dropped_staged.begin(), dropped_staged.end());
  std::erase_if(unwritten_, [&](const StagedRecord& r) {
    return std::binary_search(dropped_staged.begin(), dropped_staged.end(), r.rev);
  });
  state_.compact_revision = revision;
  stage_state(batch);
  return {};
}

// ---- WriteTxn ---------------------------------------------------------------

WriteTxn::WriteTxn(MvccStore* store, uint64_t raft_index)
    : store_(store), raft_index_(raft_index), main_(store->state_.current_revision + 1) {}

WriteTxn::WriteTxn(WriteTxn&& other) noexcept
    : store_(other.store_),
      raft_index_(other.raft_index_),
      main_(other.main_),
      next_sub_(other.next_sub_),
      changes_(std::move(other.changes_)),
      change_at_(std::move(other.change_at_)),
      open_(other.open_) {
  other.open_ = false;
}

WriteTxn::~WriteTxn() {
  if (!open_) return;
  rollback(Savepoint{});
  store_->write_open_ = false;
}

void WriteTxn::rollback(const Savepoint& sp) {
  while (changes_.size() > sp.changes) {
    const Change& c = changes_.back();
    if (c.event.type == Event::Type::kPut) {
      store_->index_.undo_put(c.event.kv.key, c.rev);
    } else {
      store_->index_.undo_tombstone(c.event.kv.key, c.rev);
    }
    change_at_.erase(c.rev);
    changes_.pop_back();
  }
  next_sub_ = sp.next_sub;
}

Result<PutResult> WriteTxn::put(std::string_view key, std::string_view value, LeaseId lease,
                                const PutOptions& options) {
  CORRAL_CHECK(open_);
  Savepoint sp = savepoint();
  auto r = do_put(key, value, lease, options);
  if (!r.ok()) rollback(sp);
  return r;
}

Result<DeleteResult> WriteTxn::delete_range(std::string_view key, std::string_view range_end,
                                            bool prev_kv) {
  CORRAL_CHECK(open_);
  Savepoint sp = savepoint();
  auto r = do_delete(key, range_end, prev_kv);
  if (!r.ok()) rollback(sp);
  return r;
}

Result<TxnResult> WriteTxn::txn(const TxnRequest& request) {
  CORRAL_CHECK(open_);
  if (auto st = check_txn_request(request); !st.ok()) return st.error();
  Savepoint sp = savepoint();
  auto r = do_txn(request);
  if (!r.ok()) rollback(sp);
  return r;
}

Result<RangeResult> WriteTxn::range(std::string_view key, std::string_view range_end,
                                    const RangeOptions& options) const {
  CORRAL_CHECK(open_);
  auto range = KeyRange::make(key, range_end);
  if (!range.ok()) return range.error();
  Revision at = options.revision == 0 ? view_revision() : options.revision;
  if (at != view_revision()) {
    if (auto st = store_->check_read_revision(at); !st.ok()) return st.error();
  }
  return store_->range_in(*range, options, at, view_revision(), this);
}

Result<PutResult> WriteTxn::do_put(std::string_view key, std::string_view value, LeaseId lease,
                                   const PutOptions& options) {
  if (auto st = check_put(key, value, lease, options); !st.ok()) return st.error();
  std::string k(key);
  auto cur = store_->index_.get_for_put(k, main_);
  std::optional<KeyValue> prev;
  const bool read_prev =
      store_->prev_kv_in_events_ || options.prev_kv || options.ignore_value || options.ignore_lease;
  if (cur && read_prev) {
    auto kv = store_->read_record(cur->rev, this);
    if (!kv.ok()) return kv.error();
    prev = std::move(*kv);
  } else if (!cur && (options.ignore_value || options.ignore_lease)) {
    return make_error(ErrorCode::kNotFound, "put with ignore_value or ignore_lease on a missing key");
  }
  Rev rev{main_, next_sub_++};
  Change c;
  c.rev = rev;
  c.event.type = Event::Type::kPut;
  KeyValue& kv = c.event.kv;
  kv.key = k;
  kv.value = options.ignore_value ? prev->value : std::string(value);
  kv.create_revision = cur ? cur->create_revision : main_;
  kv.mod_revision = main_;
  kv.version = cur ? cur->version + 1 : 1;
  kv.lease = options.ignore_lease ? prev->lease : lease;
  c.event.prev_kv = prev;
  store_->index_.put(k, rev);
  change_at_[rev] = changes_.size();
  changes_.push_back(std::move(c));
  PutResult out;
  out.revision = main_;
  if (options.prev_kv) out.prev_kv = std::move(prev);
  return out;
}

Result<DeleteResult> WriteTxn::do_delete(std::string_view key, std::string_view range_end,
                                         bool prev_kv) {
  auto range = KeyRange::make(key, range_end);
  if (!range.ok()) return range.error();
  std::vector<std::pair<std::string, Rev>> victims;
  store_->index_.range(*range, main_, [&](std::string_view k, const IndexHit& hit) {
    victims.emplace_back(k, hit.rev);
    return true;
  });
  DeleteResult out;
  for (auto& [k, cur] : victims) {
    auto prev = store_->read_record(cur, this);
    if (!prev.ok()) return prev.error();
    Rev rev{main_, next_sub_++};
    Change c;
    c.rev = rev;
    c.event.type = Event::Type::kDelete;
    c.event.kv.key = k;
    c.event.kv.mod_revision = main_;
    if (prev_kv) out.prev_kvs.push_back(*prev);
    c.event.prev_kv = std::move(*prev);
    store_->index_.tombstone(k, rev);
    change_at_[rev] = changes_.size();
    changes_.push_back(std::move(c));
    ++out.deleted;
  }
  out.revision = out.deleted > 0 ? main_ : view_revision();
  return out;
}

namespace {

template <typename T>
bool holds(Compare::Op op, const T& actual, const T& expected) {
  switch (op) {
    case Compare::Op::kEqual: return actual == expected;
    case Compare::Op::kNotEqual: return actual != expected;
    case Compare::Op::kLess: return actual < expected;
    case Compare::Op::kGreater: return actual > expected;
  }
  return false;
}

bool compare_kv(const Compare& c, const KeyValue& kv) {
  switch (c.target) {
    case Compare::Target::kValue: return holds(c.op, kv.value, c.value);
    case Compare::Target::kVersion: return holds(c.op, kv.version, c.number);
    case Compare::Target::kCreateRevision: return holds(c.op, kv.create_revision, c.number);
    case Compare::Target::kModRevision: return holds(c.op, kv.mod_revision, c.number);
    case Compare::Target::kLease: return holds(c.op, kv.lease, c.number);
  }
  return false;
}

}  // namespace

Result<bool> WriteTxn::compare_holds(const Compare& c) const {
  auto r = range(c.key, c.range_end);
  if (!r.ok()) return r.error();
  if (r->kvs.empty()) return c.target != Compare::Target::kValue && compare_kv(c, KeyValue{});
  for (const KeyValue& kv : r->kvs) {
    if (!compare_kv(c, kv)) return false;
  }
  return true;
}

Result<TxnResult> WriteTxn::do_txn(const TxnRequest& request) {
  TxnResult out;
  out.succeeded = true;
  for (const Compare& c : request.compare) {
    auto ok = compare_holds(c);
    if (!ok.ok()) return ok.error();
    if (!*ok) {
      out.succeeded = false;
      break;
    }
  }
  const auto& ops = out.succeeded ? request.success : request.failure;
  out.responses.reserve(ops.size());
  for (const RequestOp& op : ops) {
    if (auto* r = std::get_if<RangeRequest>(&op)) {
      auto res = range(r->key, r->range_end, r->options);
      if (!res.ok()) return res.error();
      out.responses.emplace_back(std::move(*res));
    } else if (auto* p = std::get_if<PutRequest>(&op)) {
      auto res = do_put(p->key, p->value, p->lease, p->options);
      if (!res.ok()) return res.error();
      out.responses.emplace_back(std::move(*res));
    } else if (auto* d = std::get_if<DeleteRequest>(&op)) {
      auto res = do_delete(d->key, d->range_end, d->prev_kv);
      if (!res.ok()) return res.error();
      out.responses.emplace_back(std::move(*res));
    } else {
      auto res = do_txn(*std::get<std::shared_ptr<const TxnRequest>>(op));
      if (!res.ok()) return res.error();
      out.responses.emplace_back(std::make_shared<const TxnResult>(std::move(*res)));
    }
  }
  out.revision = view_revision();
  // Ops answered before a later write in this txn carry the earlier view;
  // like etcd, every write response names the txn's final revision.
  for (ResponseOp& r : out.responses) {
    if (auto* p = std::get_if<PutResult>(&r)) p->revision = out.revision;
    if (auto* d = std::get_if<DeleteResult>(&r)) d->revision = out.revision;
    if (auto* g = std::get_if<RangeResult>(&r)) g->revision = out.revision;
  }
  return out;
}

RevisionEvents WriteTxn::commit(storage::WriteBatch& batch) {
  RevisionEvents out = commit_changes(batch);
  store_->stage_state(batch);
  return out;
}

RevisionEvents WriteTxn::commit_changes(storage::WriteBatch& batch) {
  CORRAL_CHECK(open_);
  open_ = false;
  MvccStore& s = *store_;
  RevisionEvents out;
  if (!changes_.empty()) {
    out.events.reserve(changes_.size());
    for (Change& c : changes_) {
      bool tombstone = c.event.type == Event::Type::kDelete;
      batch.put(Space::kKv, revision_key(c.rev, tombstone), encode_key_value(c.event.kv));
      CORRAL_CHECK(s.unwritten_.empty() || s.unwritten_.back().rev < c.rev);
      s.unwritten_.push_back(MvccStore::StagedRecord{c.rev, tombstone, c.event.kv});
      out.events.push_back(std::move(c.event));
    }
    s.state_.current_revision = main_;
  }
  out.revision = s.state_.current_revision;
  s.state_.applied_index = raft_index_;
  s.write_open_ = false;
  changes_.clear();
  change_at_.clear();
  return out;
}

}  // namespace corral::kv
