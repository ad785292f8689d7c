// Plain value types of the consensus core. raft/ sees only these: no Cap'n
// Proto, no RocksDB, no ZeroMQ. Layers above translate them to wire and disk
// formats (schema/raft.capnp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace corral::raft {

using NodeId = uint64_t;  // 0 means "none"
using Term = uint64_t;
using Index = uint64_t;

inline constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // application command (may be empty: a leader's no-op)
  kConfChange = 1,  // data is an encoded ConfChange (see encode_conf_change)
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What must survive a crash besides the log (Raft paper, Figure 2).
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool operator==(const HardState&) const = default;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* role_name(Role role);

// Volatile state that the application may want to observe; never persisted.
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;

  bool operator==(const SoftState&) const = default;
};

// Cluster membership. Changes are one at a time (see conf_change.h).
struct ConfState {
  std::vector<NodeId> voters;    // sorted
  std::vector<NodeId> learners;  // sorted, disjoint from voters

  bool operator==(const ConfState&) const = default;
};

struct SnapshotMetadata {
  Index index = 0;
  Term term = 0;
  ConfState conf_state;

  bool operator==(const SnapshotMetadata&) const = default;
};

// A state-machine image up to metadata.index. `data` is opaque to raft; the
// transport may ship it in chunks, raft sees it whole.
struct Snapshot {
  SnapshotMetadata metadata;
  std::string data;

  bool empty() const { return metadata.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

enum class ConfChangeType : uint8_t {
  kAddNode = 0,     // add a voter, or promote an existing learner
  kAddLearner = 1,  // add a non-voting member (or demote: not supported, rejected)
  kRemoveNode = 2,  // remove a voter or learner
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddNode;
  NodeId node_id = kNoNode;
  std::string context;  // opaque to raft: e.g. the member's peer URL

  bool operator==(const ConfChange&) const = default;
};

// ConfChange <-> Entry::data. A small fixed format owned by raft so that the
// core can read conf-change entries it finds in its own log.
std::string encode_conf_change(const ConfChange& cc);
std::optional<ConfChange> decode_conf_change(const std::string& data);

enum class MessageType : uint8_t {
  kAppend = 0,              // leader -> follower: entries after (index, log_term)
  kAppendResponse,          // follower -> leader: success (index = last matched) or reject
  kRequestVote,             // candidate -> all
  kRequestVoteResponse,     //
  kRequestPreVote,          // pre-candidate -> all; does not bump anyone's term
  kRequestPreVoteResponse,  //
  kHeartbeat,               // leader -> follower: commit (min of match, commit), context
  kHeartbeatResponse,       //
  kSnapshot,                // leader -> follower: install `snapshot`
  kReadIndex,               // follower -> leader: forwarded read_index request
  kReadIndexResponse,       // leader -> follower: the read index for `context`
  kTimeoutNow,              // leader -> transferee: campaign at once
  kTransferLeader,          // follower -> leader: forwarded transfer request (from = transferee)
};
const char* message_type_name(MessageType type);

// One message between members. Fields unused by a type stay at their default.
struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;        // sender's term (0 only for local-only messages)
  Term log_term = 0;    // term of entry at `index` (kAppend), of last entry (votes), reject hint term
  Index index = 0;      // previous index (kAppend), last index (votes), match/reject index (responses)
  Index commit = 0;     // leader's commit (kAppend, kHeartbeat)
  bool reject = false;  // responses
  Index reject_hint = 0;  // kAppendResponse on reject: follower's hint for fast backtracking
  // kAppend with no entries to a follower known to hold every entry up to
  // `index`: it only carries the commit index, and accepting it changes
  // nothing the leader tracks, so the follower does not answer it.
  bool ack_not_needed = false;
  std::vector<Entry> entries;
  std::optional<Snapshot> snapshot;  // kSnapshot
  std::string context;  // read-index request id, campaign-transfer marker
  // kHeartbeatResponse: the sender will not vote for anyone or campaign
  // for at least this many ms of its clock after it got the heartbeat
  // (Config::lease_promise_ms); 0: no such promise (lease reads off, or a
  // member that predates the field).
  uint16_t lease_promise_ms = 0;

  bool operator==(const Message&) const = default;
};

// A linearizable read that may now be served once the application has
// applied up to `index`.
struct ReadState {
  Index index = 0;
  std::string request_ctx;

  bool operator==(const ReadState&) const = default;
};

}  // namespace corral::raft
