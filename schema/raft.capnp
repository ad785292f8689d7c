# Peer wire format and disk format of the raft core's value types
# (coordinator/raft/types.h). coordinator/storage/raft_records.h converts
# between these and the plain raft:: structs; raft/ itself never sees them.
#
# Every record is one Cap'n Proto message serialised flat (segment table +
# segments, capnp::messageToFlatArray), both on the wire and in RocksDB.
# Field numbers are forever: add new fields at the end, never renumber.
@0xe57e0410ff46c126;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("corral::schema::raft");

# Kind of a log entry. Mirrors raft::EntryType.
enum EntryType {
  normal @0;      # application command (empty data: a leader's no-op)
  confChange @1;  # data holds a ConfChange in the raft core's own format
}

# One raft log entry. On disk: value in space kRaftLog under the 8-byte
# big-endian index; on the wire: inside Message.entries.
struct Entry {
  term @0 :UInt64;
  index @1 :UInt64;
  type @2 :EntryType;
  data @3 :Data;
}

# What must survive a crash besides the log: current term, vote, commit.
# On disk: kRaftMeta key "hard_state".
struct HardState {
  term @0 :UInt64;
  vote @1 :UInt64;    # 0 = no vote
  commit @2 :UInt64;
}

# Cluster membership: sorted, disjoint lists of node ids.
# On disk: kRaftMeta key "conf_state".
struct ConfState {
  voters @0 :List(UInt64);
  learners @1 :List(UInt64);
}

# Describes a state-machine image: last index and term it covers and the
# membership at that index. On disk: kRaftMeta key "snapshot".
struct SnapshotMetadata {
  index @0 :UInt64;
  term @1 :UInt64;
  confState @2 :ConfState;
}

# A whole snapshot as raft sees it: metadata plus the opaque image.
struct Snapshot {
  metadata @0 :SnapshotMetadata;
  data @1 :Data;
}

# Kind of a membership change. Mirrors raft::ConfChangeType.
enum ConfChangeType {
  addNode @0;
  addLearner @1;
  removeNode @2;
}

# One membership change request (what an operator proposes).
struct ConfChange {
  type @0 :ConfChangeType;
  nodeId @1 :UInt64;
  context @2 :Data;   # opaque to raft, e.g. the member's peer URL
}

# Index and term of the entry just before the first entry kept in the log
# (the compaction point). On disk: kRaftMeta key "log_start".
struct LogMark {
  index @0 :UInt64;
  term @1 :UInt64;
}

# Message kinds. Mirrors raft::MessageType, same order.
enum MessageType {
  append @0;
  appendResponse @1;
  requestVote @2;
  requestVoteResponse @3;
  requestPreVote @4;
  requestPreVoteResponse @5;
  heartbeat @6;
  heartbeatResponse @7;
  snapshot @8;
  readIndex @9;
  readIndexResponse @10;
  timeoutNow @11;
  transferLeader @12;
}

# One message between members (peer wire format). Fields a type does not
# use stay at their default.
struct Message {
  type @0 :MessageType;
  from @1 :UInt64;
  to @2 :UInt64;
  term @3 :UInt64;
  logTerm @4 :UInt64;
  index @5 :UInt64;
  commit @6 :UInt64;
  reject @7 :Bool;
  rejectHint @8 :UInt64;
  entries @9 :List(Entry);
  snapshot :union {
    none @10 :Void;
    some @11 :Snapshot;   # only for type = snapshot
  }
  context @12 :Data;
  # An append with no entries to a follower known to hold them all (it only
  # raises the commit index): a follower that accepts it does not answer.
  ackNotNeeded @13 :Bool;
  # heartbeatResponse: the sender will neither vote for anyone nor campaign
  # for at least this many ms of its own clock after it got the heartbeat
  # (the read-lease promise, raft::Config::lease_promise_ms); 0: no promise.
  # A member that predates the field never sets it: no promise. A UInt16
  # fills a free slot of the data section: no message grows.
  leasePromiseMs @14 :UInt16;
}
