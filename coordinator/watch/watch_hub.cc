#include "coordinator/watch/watch_hub.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "coordinator/base/check.h"
#include "coordinator/watch/key_range.h"

namespace corral::watch {

const char* cancel_reason_name(CancelReason reason) {
  switch (reason) {
    case CancelReason::kRequested: return "requested";
    case CancelReason::kCompacted: return "compacted";
    case CancelReason::kSlowWatcher: return "slow_watcher";
    case CancelReason::kHistoryError: return "history_error";
  }
  return "unknown";
}

struct WatchHub::Watcher {
  enum class State : uint8_t { kSynced, kUnsynced, kFuture };
  WatchId id = 0;
  Group* group = nullptr;
  State state = State::kSynced;
  kv::Revision next_rev = 0;  // kUnsynced: next revision to read; kFuture: start revision
  bool progress_notify = false;
};

struct WatchHub::Stream {
  struct Queued {
    Delivery delivery;
    size_t bytes;
  };
  StreamId id = 0;
  WatchId next_id = 1;
  std::map<WatchId, Watcher> watchers;
  // Output queue: items [head, end) of a vector whose capacity is reused, so
  // a stream that is drained as fast as it fills allocates nothing.
  std::vector<Queued> queue;
  size_t head = 0;
  size_t queued_bytes = 0;
  bool in_ready = false;    // listed in ready_
  bool overflowed = false;  // set during one on_commit, cleared by the cancellation

  size_t pending() const { return queue.size() - head; }
  // Takes the item at head (there must be one); reclaims the consumed front
  // once it is half the vector, so the queue's memory follows what it holds.
  Delivery take_front() {
    Queued& front = queue[head++];
    queued_bytes -= front.bytes;
    Delivery out = std::move(front.delivery);
    if (head == queue.size()) {
      queue.clear();
      head = 0;
    } else if (head >= queue.size() / 2) {
      queue.erase(queue.begin(), queue.begin() + static_cast<ptrdiff_t>(head));
      head = 0;
    }
    return out;
  }
};

struct WatchHub::Group {
  enum class Kind : uint8_t { kExact, kPrefix, kOther };
  struct Members {
    Stream* stream = nullptr;
    std::set<WatchId> ids;
    // The ids as one shared list, rebuilt only after membership changed.
    std::shared_ptr<const std::vector<WatchId>> shared;
    const std::shared_ptr<const std::vector<WatchId>>& list() {
      if (!shared) shared = std::make_shared<const std::vector<WatchId>>(ids.begin(), ids.end());
      return shared;
    }
  };
  uint64_t id = 0;
  std::string key;
  std::string range_end;
  bool prev_kv = false;
  bool no_put = false;
  bool no_delete = false;
  Kind kind = Kind::kExact;
  size_t refs = 0;  // watchers of the group in any state
  std::map<StreamId, Members> synced;
  std::vector<const kv::Event*> pending;  // on_commit scratch: this revision's matches

  bool accepts(const kv::Event& event) const {
    if (event.type == kv::Event::Type::kPut) return !no_put;
    return !no_delete;
  }
};

namespace {

size_t event_bytes(const kv::Event& e) {
  size_t bytes = kEventOverheadBytes + e.kv.key.size() + e.kv.value.size();
  if (e.prev_kv) bytes += e.prev_kv->key.size() + e.prev_kv->value.size();
  return bytes;
}

size_t batch_bytes(const kv::RevisionEvents& batch) {
  size_t bytes = 0;
  for (const auto& e : batch.events) bytes += event_bytes(e);
  return bytes;
}

kv::Event copy_for(const kv::Event& e, bool prev_kv) {
  kv::Event out;
  out.type = e.type;
  out.kv = e.kv;
  if (prev_kv) out.prev_kv = e.prev_kv;
  return out;
}

std::shared_ptr<const std::vector<WatchId>> one_id(WatchId id) {
  return std::make_shared<const std::vector<WatchId>>(1, id);
}

}  // namespace

WatchHub::WatchHub(const EventHistory& history, HubOptions options)
    : history_(history), options_(options), current_(history.current_revision()) {}

WatchHub::~WatchHub() = default;

Result<StreamId> WatchHub::open_stream() {
  if (streams_.size() >= options_.max_streams) {
    return make_error(ErrorCode::kTooLarge,
                      "too many watch streams (max " + std::to_string(options_.max_streams) + ")");
  }
  auto stream = std::make_unique<Stream>();
  stream->id = next_stream_++;
  StreamId id = stream->id;
  streams_.emplace(id, std::move(stream));
  return id;
}

Status WatchHub::close_stream(StreamId id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return make_error(ErrorCode::kNotFound, "unknown watch stream");
  Stream& stream = *it->second;
  for (auto& [wid, watcher] : stream.watchers) remove_watcher(stream, watcher);
  streams_.erase(it);
  return Status::ok_status();
}

WatchHub::Group* WatchHub::group_for(const WatchRequest& r) {
  auto spec = std::make_tuple(r.key, r.range_end, r.prev_kv, r.no_put, r.no_delete);
  auto it = group_by_spec_.find(spec);
  if (it != group_by_spec_.end()) {
    ++it->second->refs;
    return it->second;
  }
  auto group = std::make_unique<Group>();
  group->id = next_group_++;
  group->key = r.key;
  group->range_end = r.range_end;
  group->prev_kv = r.prev_kv;
  group->no_put = r.no_put;
  group->no_delete = r.no_delete;
  if (r.range_end.empty()) {
    group->kind = Group::Kind::kExact;
  } else if (r.range_end == prefix_end(r.key)) {
    group->kind = Group::Kind::kPrefix;
  } else {
    group->kind = Group::Kind::kOther;
  }
  group->refs = 1;
  Group* raw = group.get();
  groups_.emplace(raw->id, std::move(group));
  group_by_spec_.emplace(std::move(spec), raw);
  index_group(raw);
  return raw;
}

void WatchHub::release_group(Group* group) {
  CORRAL_CHECK(group->refs > 0);
  if (--group->refs > 0) return;
  CORRAL_CHECK(group->synced.empty());
  unindex_group(group);
  group_by_spec_.erase(
      std::make_tuple(group->key, group->range_end, group->prev_kv, group->no_put, group->no_delete));
  groups_.erase(group->id);
}

void WatchHub::index_group(Group* group) {
  switch (group->kind) {
    case Group::Kind::kExact: exact_index_[group->key].push_back(group); break;
    case Group::Kind::kPrefix:
      prefix_index_[group->key].push_back(group);
      ++prefix_lengths_[group->key.size()];
      break;
    case Group::Kind::kOther: other_ranges_.push_back(group); break;
  }
}

void WatchHub::unindex_group(Group* group) {
  auto erase_from = [group](GroupIndex& index) {
    auto it = index.find(group->key);
    CORRAL_CHECK(it != index.end());
    std::erase(it->second, group);
    if (it->second.empty()) index.erase(it);
  };
  switch (group->kind) {
    case Group::Kind::kExact: erase_from(exact_index_); break;
    case Group::Kind::kPrefix: {
      erase_from(prefix_index_);
      auto it = prefix_lengths_.find(group->key.size());
      CORRAL_CHECK(it != prefix_lengths_.end());
      if (--it->second == 0) prefix_lengths_.erase(it);
      break;
    }
    case Group::Kind::kOther: std::erase(other_ranges_, group); break;
  }
}

void WatchHub::match_key(std::string_view key, std::vector<Group*>& out) {
  out.clear();
  if (auto it = exact_index_.find(key); it != exact_index_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  for (const auto& [length, count] : prefix_lengths_) {
    if (length > key.size()) break;
    if (auto it = prefix_index_.find(key.substr(0, length)); it != prefix_index_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  }
  for (Group* group : other_ranges_) {
    if (in_range(key, group->key, group->range_end)) out.push_back(group);
  }
}

Result<WatchId> WatchHub::create(StreamId stream_id, const WatchRequest& request) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return make_error(ErrorCode::kNotFound, "unknown watch stream");
  Stream& stream = *it->second;
  if (request.key.size() > kMaxWatchKeyBytes || request.range_end.size() > kMaxWatchKeyBytes) {
    return make_error(ErrorCode::kTooLarge, "watch key or range_end longer than " +
                                                std::to_string(kMaxWatchKeyBytes) + " bytes");
  }
  if (request.key.empty() && request.range_end.empty()) {
    return make_error(ErrorCode::kBadRequest, "watch key is empty");
  }
  if (!request.range_end.empty() && !is_unbounded(request.range_end) &&
      request.range_end <= request.key) {
    return make_error(ErrorCode::kBadRequest, "watch range_end must be greater than key");
  }
  if (request.start_revision < 0) {
    return make_error(ErrorCode::kBadRequest, "watch start_revision is negative");
  }
  if (stream.watchers.size() >= options_.max_watchers_per_stream) {
    return make_error(ErrorCode::kTooLarge, "too many watchers on this stream (max " +
                                                std::to_string(options_.max_watchers_per_stream) +
                                                ")");
  }

  WatchId id = stream.next_id++;
  Delivery created;
  created.kind = Delivery::Kind::kCreated;
  created.watch_ids = one_id(id);
  created.revision = current_;
  push(stream, std::move(created), kEventOverheadBytes);

  kv::Revision start = request.start_revision == 0 ? current_ + 1 : request.start_revision;
  kv::Revision compact = history_.compact_revision();
  if (start <= current_ && start < compact) {
    Delivery cancelled;
    cancelled.kind = Delivery::Kind::kCancelled;
    cancelled.watch_ids = one_id(id);
    cancelled.reason = CancelReason::kCompacted;
    cancelled.revision = compact;
    cancelled.message = "start revision " + std::to_string(start) +
                        " is compacted (compact revision " + std::to_string(compact) + ")";
    push(stream, std::move(cancelled), kEventOverheadBytes);
    return id;
  }

  Watcher& watcher = stream.watchers[id];
  watcher.id = id;
  watcher.group = group_for(request);
  watcher.progress_notify = request.progress_notify;
  if (start == current_ + 1) {
    add_synced(stream, watcher);
  } else if (start > current_ + 1) {
    watcher.state = Watcher::State::kFuture;
    watcher.next_rev = start;
    future_.emplace(start, std::make_pair(stream.id, id));
  } else {
    watcher.state = Watcher::State::kUnsynced;
    watcher.next_rev = start;
    unsynced_[BucketKey{stream.id, watcher.group->id, start}].push_back(id);
    ++unsynced_count_;
  }
  return id;
}

Status WatchHub::cancel(StreamId stream_id, WatchId id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return make_error(ErrorCode::kNotFound, "unknown watch stream");
  Stream& stream = *it->second;
  if (!stream.watchers.contains(id)) {
    return make_error(ErrorCode::kNotFound, "unknown watch id " + std::to_string(id));
  }
  cancel_ids(stream, {id}, CancelReason::kRequested, 0, "cancelled by the client");
  return Status::ok_status();
}

void WatchHub::add_synced(Stream& stream, Watcher& watcher) {
  watcher.state = Watcher::State::kSynced;
  watcher.next_rev = 0;
  auto& members = watcher.group->synced[stream.id];
  members.stream = &stream;
  members.ids.insert(watcher.id);
  members.shared.reset();
  ++synced_count_;
}

void WatchHub::remove_watcher(Stream& stream, Watcher& watcher) {
  Group* group = watcher.group;
  switch (watcher.state) {
    case Watcher::State::kSynced: {
      auto it = group->synced.find(stream.id);
      CORRAL_CHECK(it != group->synced.end());
      it->second.ids.erase(watcher.id);
      it->second.shared.reset();
      if (it->second.ids.empty()) group->synced.erase(it);
      --synced_count_;
      break;
    }
    case Watcher::State::kUnsynced: {
      auto it = unsynced_.find(BucketKey{stream.id, group->id, watcher.next_rev});
      CORRAL_CHECK(it != unsynced_.end());
      std::erase(it->second, watcher.id);
      if (it->second.empty()) unsynced_.erase(it);
      --unsynced_count_;
      break;
    }
    case Watcher::State::kFuture: {
      auto [lo, hi] = future_.equal_range(watcher.next_rev);
      auto it = std::find_if(lo, hi, [&](const auto& e) {
        return e.second == std::make_pair(stream.id, watcher.id);
      });
      CORRAL_CHECK(it != hi);
      future_.erase(it);
      break;
    }
  }
  release_group(group);
}

void WatchHub::cancel_ids(Stream& stream, const std::vector<WatchId>& ids, CancelReason reason,
                          kv::Revision revision, std::string message) {
  auto list = std::make_shared<std::vector<WatchId>>();
  for (WatchId id : ids) {
    auto it = stream.watchers.find(id);
    if (it == stream.watchers.end()) continue;
    remove_watcher(stream, it->second);
    stream.watchers.erase(it);
    list->push_back(id);
  }
  if (list->empty()) return;
  Delivery cancelled;
  cancelled.kind = Delivery::Kind::kCancelled;
  cancelled.watch_ids = std::move(list);
  cancelled.reason = reason;
  cancelled.revision = revision;
  cancelled.message = std::move(message);
  push(stream, std::move(cancelled), kEventOverheadBytes);
}

void WatchHub::activate_future(kv::Revision upto) {
  while (!future_.empty() && future_.begin()->first <= upto) {
    auto [sid, wid] = future_.begin()->second;
    future_.erase(future_.begin());
    Stream& stream = *streams_.at(sid);
    add_synced(stream, stream.watchers.at(wid));
  }
}

bool WatchHub::fits(const Stream& stream, size_t bytes, size_t fraction_divisor) const {
  if (stream.pending() == 0 && fraction_divisor == 1) return true;  // one item always fits
  return (stream.pending() + 1) * fraction_divisor <= options_.max_queued_deliveries_per_stream &&
         (stream.queued_bytes + bytes) * fraction_divisor <= options_.max_queued_bytes_per_stream;
}

void WatchHub::push(Stream& stream, Delivery delivery, size_t bytes) {
  stream.queue.push_back(Stream::Queued{std::move(delivery), bytes});
  stream.queued_bytes += bytes;
  if (!stream.in_ready) {
    stream.in_ready = true;
    ready_.push_back(stream.id);
  }
}

void WatchHub::drop_events(Stream& stream) {
  // Creates and cancels stay (small): every watch is still announced before
  // it ends, and every end the client expects news of is still told.
  std::vector<Stream::Queued> kept;
  size_t bytes = 0;
  for (size_t i = stream.head; i < stream.queue.size(); ++i) {
    const Delivery::Kind kind = stream.queue[i].delivery.kind;
    if (kind != Delivery::Kind::kCancelled && kind != Delivery::Kind::kCreated) continue;
    bytes += stream.queue[i].bytes;
    kept.push_back(std::move(stream.queue[i]));
  }
  stream.queue = std::move(kept);  // frees the dropped items' capacity too
  stream.head = 0;
  stream.queued_bytes = bytes;
}

void WatchHub::on_commit(const kv::RevisionEvents& revision) {
  if (revision.events.empty()) return;  // a write that changed nothing made no revision
  CORRAL_CHECK(revision.revision > current_);
  activate_future(revision.revision);
  current_ = revision.revision;

  std::vector<Group*> touched;
  for (const auto& event : revision.events) {
    match_key(event.kv.key, scratch_groups_);
    for (Group* group : scratch_groups_) {
      if (group->synced.empty() || !group->accepts(event)) continue;
      if (group->pending.empty()) touched.push_back(group);
      group->pending.push_back(&event);
      ++counters_.group_matches;
    }
  }

  // A put that overwrote a key may come without the old record (the store
  // does not read it for every put): it is read here once, for the groups
  // that asked for prev_kv. A failed read leaves the event without it.
  std::unordered_map<const kv::Event*, std::optional<kv::KeyValue>> fetched_prev;
  auto prev_of = [&](const kv::Event& e) -> const std::optional<kv::KeyValue>& {
    auto [it, fresh] = fetched_prev.try_emplace(&e);
    if (fresh) {
      auto got = history_.previous_kv(e.kv.key, revision.revision);
      if (got.ok()) it->second = std::move(*got);
    }
    return it->second;
  };
  std::vector<Stream*> slow;
  for (Group* group : touched) {
    auto batch = std::make_shared<kv::RevisionEvents>();
    batch->revision = revision.revision;
    batch->events.reserve(group->pending.size());
    for (const kv::Event* event : group->pending) {
      batch->events.push_back(copy_for(*event, group->prev_kv));
      const bool overwrote = event->type == kv::Event::Type::kPut && event->kv.version > 1;
      if (group->prev_kv && overwrote && !event->prev_kv) batch->events.back().prev_kv = prev_of(*event);
    }
    group->pending.clear();
    ++counters_.batches_built;
    size_t bytes = batch_bytes(*batch);
    std::shared_ptr<const kv::RevisionEvents> shared = std::move(batch);
    for (auto& [sid, members] : group->synced) {
      Stream& stream = *members.stream;
      if (stream.overflowed) continue;
      if (!fits(stream, bytes, 1)) {
        stream.overflowed = true;
        slow.push_back(&stream);
        continue;
      }
      Delivery delivery;
      delivery.kind = Delivery::Kind::kEvents;
      delivery.watch_ids = members.list();
      delivery.events = shared;
      delivery.revision = revision.revision;
      push(stream, std::move(delivery), bytes);
    }
  }

  for (Stream* stream : slow) {
    drop_events(*stream);
    std::vector<WatchId> ids;
    ids.reserve(stream->watchers.size());
    for (const auto& [id, watcher] : stream->watchers) ids.push_back(id);
    cancel_ids(*stream, ids, CancelReason::kSlowWatcher,
               0, "stream output passed its bound at revision " +
                      std::to_string(revision.revision) + ": read faster and re-watch");
    stream->overflowed = false;
  }
}

void WatchHub::on_restore() {
  kv::Revision resume = current_ + 1;
  current_ = history_.current_revision();
  for (auto& [gid, group] : groups_) {
    for (auto& [sid, members] : group->synced) {
      Stream& stream = *streams_.at(sid);
      auto& bucket = unsynced_[BucketKey{sid, gid, resume}];
      for (WatchId id : members.ids) {
        Watcher& watcher = stream.watchers.at(id);
        watcher.state = Watcher::State::kUnsynced;
        watcher.next_rev = resume;
        bucket.push_back(id);
        ++unsynced_count_;
        --synced_count_;
      }
    }
    group->synced.clear();
  }
  // Future watchers the new state has overtaken catch up like the others.
  while (!future_.empty() && future_.begin()->first <= current_ + 1) {
    auto [start, ref] = *future_.begin();
    future_.erase(future_.begin());
    Stream& stream = *streams_.at(ref.first);
    Watcher& watcher = stream.watchers.at(ref.second);
    if (start == current_ + 1) {
      add_synced(stream, watcher);
    } else {
      watcher.state = Watcher::State::kUnsynced;
      watcher.next_rev = start;
      unsynced_[BucketKey{ref.first, watcher.group->id, start}].push_back(ref.second);
      ++unsynced_count_;
    }
  }
}

size_t WatchHub::sync_step(size_t max_events) {
  if (unsynced_.empty() || max_events == 0) return 0;
  uint64_t read_before = counters_.history_events;
  size_t budget = max_events;
  size_t visits = unsynced_.size();
  auto it = unsynced_.upper_bound(sync_cursor_);
  while (budget > 0 && visits-- > 0 && !unsynced_.empty()) {
    if (it == unsynced_.end()) it = unsynced_.begin();
    BucketKey key = it->first;
    // Past every bucket of this (stream, group), so a watcher moved forward
    // waits for its next turn.
    sync_cursor_ = BucketKey{key.stream, key.group, std::numeric_limits<kv::Revision>::max()};
    if (fits(*streams_.at(key.stream), 0, 2)) process_bucket(key, budget);
    it = unsynced_.upper_bound(sync_cursor_);
  }
  return static_cast<size_t>(counters_.history_events - read_before);
}

void WatchHub::process_bucket(const BucketKey& key, size_t& budget) {
  Stream& stream = *streams_.at(key.stream);
  Group& group = *groups_.at(key.group);
  std::vector<WatchId>& ids = unsynced_.at(key);
  size_t requested = budget;
  auto fetched = history_.events(key.next_rev, group.key, group.range_end, requested);
  if (!fetched.ok()) {
    std::vector<WatchId> victims = ids;
    if (fetched.error().code == ErrorCode::kCompacted) {
      kv::Revision compact = history_.compact_revision();
      cancel_ids(stream, victims, CancelReason::kCompacted, compact,
                 "revision " + std::to_string(key.next_rev) +
                     " was compacted while catching up (compact revision " +
                     std::to_string(compact) + ")");
    } else {
      cancel_ids(stream, victims, CancelReason::kHistoryError, 0, fetched.error().message);
    }
    return;
  }

  size_t total = 0;
  for (const auto& rev : *fetched) total += rev.events.size();
  counters_.history_events += total;
  budget -= std::min(budget, total);

  bool at_end = total < requested;
  bool blocked = false;
  kv::Revision next = key.next_rev;
  auto id_list = std::make_shared<const std::vector<WatchId>>(ids);
  for (const auto& rev : *fetched) {
    if (rev.revision > current_) {
      at_end = true;
      break;
    }
    CORRAL_CHECK_MSG(rev.revision >= next, "history returned revisions out of order");
    auto batch = std::make_shared<kv::RevisionEvents>();
    batch->revision = rev.revision;
    for (const auto& event : rev.events) {
      if (group.accepts(event) && in_range(event.kv.key, group.key, group.range_end)) {
        batch->events.push_back(copy_for(event, group.prev_kv));
      }
    }
    if (!batch->events.empty()) {
      size_t bytes = batch_bytes(*batch);
      if (!fits(stream, bytes, 1)) {
        blocked = true;  // the client reads slowly: retry from this revision later
        break;
      }
      Delivery delivery;
      delivery.kind = Delivery::Kind::kEvents;
      delivery.watch_ids = id_list;
      delivery.events = std::move(batch);
      delivery.revision = rev.revision;
      push(stream, std::move(delivery), bytes);
    }
    next = rev.revision + 1;
  }

  std::vector<WatchId> moved = std::move(ids);
  unsynced_.erase(key);
  if (!blocked && (at_end || next > current_)) {
    for (WatchId id : moved) {
      --unsynced_count_;
      add_synced(stream, stream.watchers.at(id));
    }
    return;
  }
  auto& bucket = unsynced_[BucketKey{key.stream, key.group, next}];
  for (WatchId id : moved) {
    stream.watchers.at(id).next_rev = next;
    bucket.push_back(id);
  }
}

Status WatchHub::request_progress(StreamId stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return make_error(ErrorCode::kNotFound, "unknown watch stream");
  Stream& stream = *it->second;
  auto ids = std::make_shared<std::vector<WatchId>>();
  for (const auto& [id, watcher] : stream.watchers) {
    if (watcher.state == Watcher::State::kSynced) ids->push_back(id);
  }
  if (ids->empty()) return Status::ok_status();
  if (!fits(stream, kEventOverheadBytes, 1)) {
    return make_error(ErrorCode::kTooLarge, "watch stream output is full: read it first");
  }
  Delivery progress;
  progress.kind = Delivery::Kind::kProgress;
  progress.watch_ids = std::move(ids);
  progress.revision = current_;
  push(stream, std::move(progress), kEventOverheadBytes);
  return Status::ok_status();
}

void WatchHub::tick(int64_t now_ms) {
  if (last_progress_ms_ < 0) {
    last_progress_ms_ = now_ms;
    return;
  }
  if (now_ms - last_progress_ms_ < options_.progress_interval_ms) return;
  last_progress_ms_ = now_ms;
  for (auto& [sid, stream] : streams_) {
    if (stream->pending() > 0) continue;
    auto ids = std::make_shared<std::vector<WatchId>>();
    for (const auto& [id, watcher] : stream->watchers) {
      if (watcher.progress_notify && watcher.state == Watcher::State::kSynced) ids->push_back(id);
    }
    if (ids->empty()) continue;
    Delivery progress;
    progress.kind = Delivery::Kind::kProgress;
    progress.watch_ids = std::move(ids);
    progress.revision = current_;
    push(*stream, std::move(progress), kEventOverheadBytes);
  }
}

Result<std::vector<Delivery>> WatchHub::drain(StreamId stream_id, size_t max_deliveries) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return make_error(ErrorCode::kNotFound, "unknown watch stream");
  Stream& stream = *it->second;
  std::vector<Delivery> out;
  out.reserve(std::min(max_deliveries, stream.pending()));
  while (stream.pending() > 0 && out.size() < max_deliveries) out.push_back(stream.take_front());
  return out;
}

std::optional<Delivery> WatchHub::pop(StreamId stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return std::nullopt;
  Stream& stream = *it->second;
  if (stream.pending() == 0) return std::nullopt;
  return stream.take_front();
}

std::vector<StreamId> WatchHub::take_ready() {
  std::vector<StreamId> out;
  out.reserve(ready_.size());
  for (StreamId id : ready_) {
    auto it = streams_.find(id);
    if (it == streams_.end()) continue;
    it->second->in_ready = false;
    out.push_back(id);
  }
  ready_.clear();
  return out;
}

size_t WatchHub::queued(StreamId stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second->pending();
}

HubStats WatchHub::stats() const {
  HubStats s = counters_;
  s.synced = synced_count_;
  s.unsynced = unsynced_count_;
  s.future = future_.size();
  s.groups = groups_.size();
  return s;
}

}  // namespace corral::watch
