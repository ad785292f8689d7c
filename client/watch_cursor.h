// Where a watch stands, so that a watch re-created after a reconnect resumes
// with no gap and no duplicate: `next_revision` is the first revision the
// user has not seen yet. Pure bookkeeping, one per watch.
//
// It relies on the watch contract of DESIGN.md: events arrive in revision
// order, a revision's events together; an event's revision is its
// kv.mod_revision (a delete's kv carries the deleting revision, as in etcd).
#pragma once

#include <cstdint>
#include <vector>

#include "client/types.h"

namespace corral::client {

class WatchCursor {
 public:
  // start_revision 0: from whatever is next when the watch is first created.
  explicit WatchCursor(int64_t start_revision) : next_revision_(start_revision) {}

  // The member confirmed a creation; `header_revision` was its revision then.
  // A watch from "now" starts after it, once, at the first creation only.
  void on_created(int64_t header_revision);

  // Drops the events already delivered (revision < next_revision) and moves
  // the cursor past the rest; returns what the user should see.
  std::vector<WatchEvent> accept(std::vector<WatchEvent> events);

  // A progress notification: nothing at or before `revision` is still to come.
  void on_progress(int64_t revision);

  // The start revision for re-creating the watch (0: none known yet, "now").
  int64_t resume_revision() const { return next_revision_; }

 private:
  int64_t next_revision_;
};

}  // namespace corral::client
