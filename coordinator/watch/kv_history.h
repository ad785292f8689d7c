// EventHistory over kv's MvccStore: what the server hands to WatchHub.
// Its own target (corral_watch_kv) so the hub itself does not link kv.
#pragma once

#include "coordinator/kv/mvcc_store.h"
#include "coordinator/watch/event_history.h"

namespace corral::watch {

class KvHistory final : public EventHistory {
 public:
  // `store` must outlive this adapter.
  explicit KvHistory(const kv::MvccStore& store) : store_(store) {}

  kv::Revision current_revision() const override { return store_.current_revision(); }
  kv::Revision compact_revision() const override { return store_.compact_revision(); }
  // Bridges the two key conventions: kv refuses an empty key, so "every key"
  // ("" with "\0") is asked as "\0" with "\0"; max_events is clamped to kv's
  // per-read ceiling.
  Result<std::vector<kv::RevisionEvents>> events(kv::Revision from_rev, std::string_view key,
                                                 std::string_view range_end,
                                                 size_t max_events) const override;
  Result<std::optional<kv::KeyValue>> previous_kv(std::string_view key, kv::Revision revision) const override {
    return store_.previous_kv(key, revision);
  }

 private:
  const kv::MvccStore& store_;
};

}  // namespace corral::watch
