// What watch needs from the key space: its revisions and its change history.
// kv's MvccStore offers the same through kv_history.h; tests use a small
// in-memory implementation, so watch does not depend on kv's storage.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/kv/key_value.h"

namespace corral::watch {

class EventHistory {
 public:
  virtual ~EventHistory() = default;

  // Revision of the last applied change; 0 for an empty key space.
  virtual kv::Revision current_revision() const = 0;

  // The compaction point: events of revisions below it are gone, so a watch
  // from such a revision fails, carrying this revision; the events at it are
  // still served (etcd's rule: refused only if start < compact revision, so a
  // client re-watches from compact_revision()). 0 if never compacted.
  virtual kv::Revision compact_revision() const = 0;

  // Events of revisions >= from_rev on the keys in [key, range_end), oldest
  // first. Range rules are etcd's: an empty range_end means `key` only, "\0"
  // means every key >= key. Each RevisionEvents holds only that revision's
  // matching events, in the order they ran, and never a revision without
  // one. Whole revisions only: collection stops once at least max_events
  // events are gathered (so a large revision may exceed max_events) or at
  // current_revision(). kCompacted if from_rev < compact_revision().
  virtual Result<std::vector<kv::RevisionEvents>> events(kv::Revision from_rev,
                                                         std::string_view key,
                                                         std::string_view range_end,
                                                         size_t max_events) const = 0;

  // The record the put of `key` at `revision` overwrote, for a live put event
  // that came without its prev_kv (kv::MvccStore::set_prev_kv_in_events):
  // read only for watchers that asked for prev_kv, as etcd does. nullopt if
  // that put created the key.
  virtual Result<std::optional<kv::KeyValue>> previous_kv(std::string_view key, kv::Revision revision) const = 0;
};

}  // namespace corral::watch
