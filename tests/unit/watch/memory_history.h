// An in-memory EventHistory for watch tests: a log of revisions that tests
// append to (and compact), so watch is tested without kv's storage.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/watch/event_history.h"
#include "coordinator/watch/key_range.h"

namespace corral::watch::testing {

class MemoryHistory : public EventHistory {
 public:
  kv::Revision current_revision() const override { return current_; }
  kv::Revision compact_revision() const override { return compact_; }

  Result<std::vector<kv::RevisionEvents>> events(kv::Revision from_rev, std::string_view key,
                                                 std::string_view range_end,
                                                 size_t max_events) const override {
    ++reads_;
    if (from_rev < compact_) {
      return make_error(ErrorCode::kCompacted, "compacted");
    }
    std::vector<kv::RevisionEvents> out;
    size_t total = 0;
    for (auto it = log_.lower_bound(from_rev); it != log_.end() && total < max_events; ++it) {
      kv::RevisionEvents rev{it->first, {}};
      for (const auto& e : it->second) {
        if (in_range(e.kv.key, key, range_end)) rev.events.push_back(e);
      }
      if (rev.events.empty()) continue;
      total += rev.events.size();
      out.push_back(std::move(rev));
    }
    return out;
  }

  // Its events carry their prev_kv; this looks it up the same way.
  Result<std::optional<kv::KeyValue>> previous_kv(std::string_view key, kv::Revision revision) const override {
    ++previous_reads_;
    auto it = log_.find(revision);
    if (it == log_.end()) return std::optional<kv::KeyValue>();
    for (const auto& e : it->second) {
      if (e.kv.key == key && e.type == kv::Event::Type::kPut) return e.prev_kv;
    }
    return std::optional<kv::KeyValue>();
  }
  int previous_reads() const { return previous_reads_; }

  // Applies puts (value) and deletes (nullopt) as the next revision, filling
  // mod/create revisions, versions and prev_kv like the key space would.
  kv::RevisionEvents commit(const std::vector<std::pair<std::string, std::optional<std::string>>>& ops) {
    kv::RevisionEvents rev{++current_, {}};
    for (const auto& [key, value] : ops) {
      kv::Event e;
      auto it = state_.find(key);
      if (it != state_.end()) e.prev_kv = it->second;
      if (value) {
        e.type = kv::Event::Type::kPut;
        kv::KeyValue kv{key, *value, it == state_.end() ? current_ : it->second.create_revision,
                        current_, it == state_.end() ? 1 : it->second.version + 1, 0};
        state_[key] = kv;
        e.kv = kv;
      } else {
        if (it == state_.end()) continue;  // deleting nothing makes no event
        e.type = kv::Event::Type::kDelete;
        e.kv.key = key;
        e.kv.mod_revision = current_;
        state_.erase(it);
      }
      rev.events.push_back(std::move(e));
    }
    log_[current_] = rev.events;
    return rev;
  }

  // Forgets every revision below `revision`; the compaction point itself
  // stays readable, as in kv (and etcd).
  void compact(kv::Revision revision) {
    if (revision <= compact_) return;
    compact_ = revision;
    log_.erase(log_.begin(), log_.lower_bound(revision));
  }

  // Makes the next commit start at `revision` (as a snapshot install would).
  void jump_to(kv::Revision revision) { current_ = revision; }

  int reads() const { return reads_; }

 private:
  kv::Revision current_ = 0;
  kv::Revision compact_ = 0;
  std::map<kv::Revision, std::vector<kv::Event>> log_;
  std::map<std::string, kv::KeyValue> state_;
  mutable int reads_ = 0;
  mutable int previous_reads_ = 0;
};

}  // namespace corral::watch::testing
