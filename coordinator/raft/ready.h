// What the application must do after the core has changed: the batch of work
// that one turn of the node loop handles (persist, send, apply), in the shape
// of etcd's raft Ready.
#pragma once

#include <optional>
#include <vector>

#include "coordinator/raft/types.h"

namespace corral::raft {

struct Ready {
  // Set only when changed since the last Ready.
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;

  // Order of handling:
  //  1. persist `snapshot` (if any), then append `entries`, then `hard_state`;
  //     fsync if `must_sync`;
  //  2. send `messages` (a leader may send its kAppend before step 1 ends:
  //     commit still requires a persisted majority; every other message must
  //     wait for step 1);
  //  3. apply `snapshot` then `committed_entries` to the state machine, and
  //     serve `read_states` once applied up to their index;
  //  4. call RawNode::advance().
  // With Config::async_storage_writes a leader may finish step 1 after step
  // 4 (on another thread) and report it with RawNode::advance_append();
  // `committed_entries` then never include entries not yet persisted.
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  std::vector<Entry> committed_entries;
  std::vector<Message> messages;
  std::vector<ReadState> read_states;
  bool must_sync = false;  // hard_state term/vote changed or entries to append
};

}  // namespace corral::raft
