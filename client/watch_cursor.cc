#include "client/watch_cursor.h"

#include <algorithm>

namespace corral::client {

void WatchCursor::on_created(int64_t header_revision) {
  if (next_revision_ == 0) next_revision_ = header_revision + 1;
}

std::vector<WatchEvent> WatchCursor::accept(std::vector<WatchEvent> events) {
  std::vector<WatchEvent> fresh;
  fresh.reserve(events.size());
  for (WatchEvent& e : events) {
    if (e.kv.mod_revision < next_revision_) continue;
    fresh.push_back(std::move(e));
  }
  // Advance after the whole batch: one revision may hold several events.
  for (const WatchEvent& e : fresh) {
    next_revision_ = std::max(next_revision_, e.kv.mod_revision + 1);
  }
  return fresh;
}

void WatchCursor::on_progress(int64_t revision) {
  next_revision_ = std::max(next_revision_, revision + 1);
}

}  // namespace corral::client
