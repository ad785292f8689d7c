# Stored values of the replicated state machine (space kKv and kKvMeta of
# coordinator/storage/engine.h). coordinator/kv/record_codec.h converts between
# these and the plain kv:: structs.
#
# Every record is one Cap'n Proto message serialised flat (segment table +
# segments, capnp::messageToFlatArray). Field numbers are forever: add new
# fields at the end, never renumber.
@0xbc07f3b042f95373;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("corral::schema::records");

# One revision of one key. Space kKv, under the revision key of
# coordinator/kv/revision_key.h. A put stores every field; a delete
# (tombstone: the revision key ends in the tombstone marker byte) stores
# only key and modRevision (the delete's revision), the rest zero.
struct KeyValueRecord {
  key @0 :Data;
  value @1 :Data;
  createRevision @2 :Int64;  # revision that created this generation of the key
  modRevision @3 :Int64;     # revision of this change
  version @4 :Int64;         # puts since creation, 1 on create
  lease @5 :Int64;           # 0 = no lease
}

# The MVCC store's own state. Space kKvMeta, key "kv_state". Written in the
# same batch as every change it describes, so a restart sees the key space
# and these numbers at the same point.
struct KvStateRecord {
  appliedIndex @0 :UInt64;      # last raft index whose changes are in the batch
  currentRevision @1 :Int64;    # revision of the last change (0 = empty store)
  compactRevision @2 :Int64;    # revisions at or below it are compacted (0 = none)
}

# One lease. Space kLease, under the lease id as 8 bytes big-endian (ids are
# positive, so keys sort by id). Attached keys are not stored: they are
# rebuilt at start-up from the key space (every key records its lease).
struct LeaseRecord {
  ttlSeconds @0 :Int64;   # as granted, after clamping
  # The lease's last checkpoint: the time it had left when the leader took
  # it (the grant counts as one, with the whole TTL). Each member counts it
  # down from when it applied it (or started, after a restart), so a new
  # leader expires the lease then. 0: renewed since its last checkpoint, so
  # a new leader gives it a whole TTL from its promotion.
  remainingMs @1 :Int64;
}

# The data of a lease checkpoint entry (after the entry kind's two magic
# bytes, coordinator/lease/checkpoint_entry.h): a batch of remaining TTLs the
# leader proposes, either periodically or to reset the checkpoint of leases
# that were kept alive (remainingMs 0).
struct LeaseCheckpointBatch {
  proposer @0 :UInt64;   # member id of the leader that proposed it
  sequence @1 :UInt64;   # the proposer's batch number within its term (> 0)
  checkpoints @2 :List(LeaseCheckpoint);
}
struct LeaseCheckpoint {
  id @0 :Int64;
  remainingMs @1 :Int64;  # 0: reset (a keep-alive renewed the lease)
}
