// WatchHub: every watch of one member, grouped by stream (a client
// connection), fed once per committed revision by the apply path and drained
// per stream by the api layer.
//
// Guarantees (DESIGN.md "Watches"): a watcher sees the matching events of
// every revision from its start revision on, in order, each revision's
// events together in one delivery, never duplicated, never skipped. Errors
// are explicit cancellations (compacted start, slow stream), never silence.
//
// Cost model. Watchers with the same (key, range_end, prev_kv, filters)
// share a group; an event is matched against groups, not watchers, through
// three indexes: exact key (hash), prefix (hash per distinct prefix length)
// and other ranges (scanned; rare). Each matching group builds one immutable
// batch per revision, shared by all of its watchers on every stream, and each
// stream gets one delivery per (group, revision) carrying the shared list of
// its watch ids: the api layer encodes the batch once per connection.
//
// Watchers are synced (receive on_commit), unsynced (start revision in the
// past: catch up from the EventHistory in bounded chunks in sync_step, then
// join the synced set at exactly current+1) or future (start revision beyond
// current+1: join the synced set when on_commit reaches it).
//
// Output is pulled: after on_commit / sync_step / tick, take_ready() names the
// streams with new output and drain() hands it out.
//
// Not thread-safe: the server calls it from one thread or under one lock.
// The hub's current revision is the last one passed to on_commit (or the
// history's at construction / restore): catch-up never reads past it, so a
// history that has already applied the next revision cannot cause duplicates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/kv/key_value.h"
#include "coordinator/kv/limits.h"
#include "coordinator/watch/event_history.h"

namespace corral::watch {

using StreamId = uint64_t;
using WatchId = int64_t;  // per stream, from 1

inline constexpr size_t kDefaultMaxStreams = 10'000;
inline constexpr size_t kDefaultMaxWatchersPerStream = 10'000;
// Per-stream output queue bound. Past it, every watcher of the stream is
// cancelled with CancelReason::kSlowWatcher (never silently dropped), and the
// stream's queued events and progress notices are dropped: only creates and
// cancels stay queued, so a stream whose client never reads again holds
// almost nothing. The client got events up to some
// revision, then the cancel, and re-watches from that revision + 1.
inline constexpr size_t kDefaultMaxQueuedDeliveriesPerStream = 10'000;
inline constexpr size_t kDefaultMaxQueuedBytesPerStream = 16u << 20;
inline constexpr int64_t kDefaultProgressIntervalMs = 10 * 60 * 1000;  // etcd's default
inline constexpr size_t kMaxWatchKeyBytes = kv::kMaxKeyBytes;
// Estimated encoding overhead of one event besides its keys and values, for
// the byte bound of the output queues.
inline constexpr size_t kEventOverheadBytes = 64;

struct HubOptions {
  size_t max_streams = kDefaultMaxStreams;
  size_t max_watchers_per_stream = kDefaultMaxWatchersPerStream;
  size_t max_queued_deliveries_per_stream = kDefaultMaxQueuedDeliveriesPerStream;
  size_t max_queued_bytes_per_stream = kDefaultMaxQueuedBytesPerStream;
  int64_t progress_interval_ms = kDefaultProgressIntervalMs;
};

struct WatchRequest {
  std::string key;
  std::string range_end;         // etcd rules, see key_range.h
  kv::Revision start_revision = 0;  // 0 = from the next revision
  bool prev_kv = false;          // keep prev_kv in events (stripped otherwise)
  bool no_put = false;           // filter out puts
  bool no_delete = false;        // filter out deletes
  bool progress_notify = false;  // periodic progress notifications
};

enum class CancelReason : uint8_t {
  kRequested = 0,  // the client cancelled it
  kCompacted,      // start revision compacted; Delivery::revision = compact revision
  kSlowWatcher,    // the stream's output queue passed its bound
  kHistoryError,   // the history failed while catching up; see message
};
const char* cancel_reason_name(CancelReason reason);

// One item of a stream's output, in order.
struct Delivery {
  enum class Kind : uint8_t {
    kCreated = 0,  // the watch exists; events follow
    kEvents,       // events: one revision's matching events
    kCancelled,    // no more deliveries for these ids
    kProgress,     // every event up to `revision` has been delivered to these ids
  };
  Kind kind = Kind::kEvents;
  // The watches of this stream the item is for. Shared between deliveries
  // and never modified after creation.
  std::shared_ptr<const std::vector<WatchId>> watch_ids;
  // kEvents only: shared by every watcher (of any stream) of the same group.
  std::shared_ptr<const kv::RevisionEvents> events;
  // kEvents: the events' revision; kProgress: the current revision;
  // kCancelled with kCompacted: the compact revision; otherwise 0.
  kv::Revision revision = 0;
  CancelReason reason = CancelReason::kRequested;  // kCancelled only
  std::string message;                             // kCancelled only
};

// Counters for tests and metrics.
struct HubStats {
  uint64_t group_matches = 0;    // (event, group) matches in on_commit
  uint64_t batches_built = 0;    // shared batches made by on_commit
  uint64_t history_events = 0;   // events read from the history by sync_step
  size_t synced = 0;
  size_t unsynced = 0;
  size_t future = 0;
  size_t groups = 0;
};

class WatchHub {
 public:
  // `history` must outlive the hub and reflect every revision up to the one
  // last passed to on_commit.
  WatchHub(const EventHistory& history, HubOptions options = {});
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // A new client stream; kTooLarge past max_streams.
  Result<StreamId> open_stream();
  // Drops the stream, its watchers and its queued output. kNotFound if unknown.
  Status close_stream(StreamId stream);

  // Creates a watch and queues kCreated for it. A start revision below the
  // compact revision still creates the watch, then cancels it (kCompacted with
  // the compact revision), as etcd does; one at the compact revision is served. Errors change nothing: kNotFound
  // (stream), kBadRequest (range, revision), kTooLarge (key, watcher bound).
  Result<WatchId> create(StreamId stream, const WatchRequest& request);
  // Stops a watch; queues kCancelled/kRequested after anything already queued.
  Status cancel(StreamId stream, WatchId id);

  // Called by the apply path once per committed revision, in revision order,
  // after the history holds it. Revisions must increase; a RevisionEvents
  // without events (a txn that changed nothing) is ignored.
  void on_commit(const kv::RevisionEvents& revision);
  // Called after the key space was replaced (snapshot install): the current
  // revision becomes the history's and every synced watcher catches up again
  // from where it was.
  void on_restore();

  // Moves unsynced watchers forward, reading at most about max_events events
  // from the history (whole revisions). Streams whose queue is half full wait.
  // Returns the number of events read.
  size_t sync_step(size_t max_events);
  bool has_unsynced() const { return !unsynced_.empty(); }

  // On-request progress: queues kProgress(current revision) for the stream's
  // synced watchers (unsynced ones cannot claim it yet). kNotFound if unknown.
  Status request_progress(StreamId stream);
  // Periodic progress: once every progress_interval_ms, queues kProgress for
  // the synced watchers that asked for it, on streams whose queue is empty
  // (a stream with output pending gets nothing new to pile up).
  // now_ms: milliseconds of a monotonic clock (any fixed epoch).
  void tick(int64_t now_ms);

  // Pops up to max_deliveries items of the stream's output, oldest first.
  Result<std::vector<Delivery>> drain(StreamId stream, size_t max_deliveries);
  // Pops the oldest item of the stream's output; nothing if the stream has
  // none or is unknown. For a caller that stops as soon as its connection
  // stops taking bytes: what it did not pop stays here, under the bounds.
  std::optional<Delivery> pop(StreamId stream);
  // The streams that got new output since the last call, each once, in the
  // order they got it (closed streams left out): the server wakes their
  // connections. A stream drained only partly is not listed again until it
  // gets more output, so the caller keeps draining what it was given.
  std::vector<StreamId> take_ready();
  size_t queued(StreamId stream) const;

  kv::Revision current_revision() const { return current_; }
  HubStats stats() const;

 private:
  struct Group;
  struct Stream;
  struct Watcher;
  struct BucketKey {
    StreamId stream;
    uint64_t group;
    kv::Revision next_rev;
    auto operator<=>(const BucketKey&) const = default;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using GroupIndex =
      std::unordered_map<std::string, std::vector<Group*>, StringHash, std::equal_to<>>;

  Group* group_for(const WatchRequest& request);
  void release_group(Group* group);
  void index_group(Group* group);
  void unindex_group(Group* group);
  void match_key(std::string_view key, std::vector<Group*>& out);

  void add_synced(Stream& stream, Watcher& watcher);
  void remove_watcher(Stream& stream, Watcher& watcher);
  void cancel_ids(Stream& stream, const std::vector<WatchId>& ids, CancelReason reason,
                  kv::Revision revision, std::string message);
  void activate_future(kv::Revision upto);

  bool fits(const Stream& stream, size_t bytes, size_t fraction_divisor) const;
  void push(Stream& stream, Delivery delivery, size_t bytes);
  void drop_events(Stream& stream);
  void process_bucket(const BucketKey& key, size_t& budget);

  const EventHistory& history_;
  HubOptions options_;
  kv::Revision current_ = 0;

  StreamId next_stream_ = 1;
  std::map<StreamId, std::unique_ptr<Stream>> streams_;
  std::vector<StreamId> ready_;

  uint64_t next_group_ = 1;
  std::map<uint64_t, std::unique_ptr<Group>> groups_;  // by group id
  std::map<std::tuple<std::string, std::string, bool, bool, bool>, Group*> group_by_spec_;
  GroupIndex exact_index_;
  GroupIndex prefix_index_;
  std::map<size_t, size_t> prefix_lengths_;  // distinct prefix length -> groups using it
  std::vector<Group*> other_ranges_;

  std::map<BucketKey, std::vector<WatchId>> unsynced_;
  BucketKey sync_cursor_{0, 0, 0};
  std::multimap<kv::Revision, std::pair<StreamId, WatchId>> future_;

  int64_t last_progress_ms_ = -1;
  size_t synced_count_ = 0;
  size_t unsynced_count_ = 0;
  HubStats counters_;
  std::vector<Group*> scratch_groups_;
};

}  // namespace corral::watch
