#include "coordinator/raft/progress.h"

#include <algorithm>

namespace corral::raft {

Progress::Progress(Index next_index, uint32_t max_inflight_appends, bool is_learner)
    : next(next_index), learner(is_learner), inflights(max_inflight_appends) {}

void Progress::reset_state(State s) {
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_wait_timeouts = 0;
  state = s;
  inflights.reset();
}

void Progress::become_probe() {
  if (state == State::kSnapshot) {
    // The snapshot may have been installed: probe just after it.
    const Index pending = pending_snapshot;
    reset_state(State::kProbe);
    next = std::max(match + 1, pending + 1);
  } else {
    reset_state(State::kProbe);
    next = match + 1;
  }
}

void Progress::become_replicate() {
  reset_state(State::kReplicate);
  next = match + 1;
}

void Progress::become_snapshot(Index snapshot_index) {
  reset_state(State::kSnapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::maybe_update(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decr_to(Index rejected, Index match_hint) {
  if (state == State::kReplicate) {
    // Stale rejection of something already matched.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In probe state only the rejection of the one outstanding probe counts.
  if (next == 0 || next - 1 != rejected) return false;
  // Never below match+1: everything up to match is acknowledged.
  next = std::max<Index>(std::min(rejected, match_hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state) {
    case State::kProbe: return probe_sent;
    case State::kReplicate: return inflights.full();
    case State::kSnapshot: return true;
  }
  return true;
}

const char* progress_state_name(Progress::State s) {
  switch (s) {
    case Progress::State::kProbe: return "probe";
    case Progress::State::kReplicate: return "replicate";
    case Progress::State::kSnapshot: return "snapshot";
  }
  return "unknown";
}

}  // namespace corral::raft
