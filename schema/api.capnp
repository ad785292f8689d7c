# The client protocol of corrald: what corralctl, the C++ client library, the
# agents and corral-bench send over ZeroMQ (a DEALER socket to the member's
# client ROUTER socket, one Cap'n Proto message per ZeroMQ message, flat).
#
# A client keeps many requests in flight on one connection: every Request
# carries a client-chosen id that its Response repeats. Watch events arrive on
# the same connection as ServerMessage.watch. Errors are typed values, never a
# dropped connection. Semantics follow etcd v3 (revisions, ranges, txn,
# leases, watches); byte strings are Data (keys need not be UTF-8).
#
# Range conventions (etcd's): rangeEnd empty = the single key `key`;
# rangeEnd = "\0" = every key >= key; otherwise the half-open [key, rangeEnd).
# A prefix p is the range [p, prefixEnd(p)).
#
# Field numbers are forever: add new fields at the end, never renumber.
@0x8612813509150b8b;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("corral::schema::api");

struct KeyValue {
  key @0 :Data;
  value @1 :Data;
  createRevision @2 :Int64;
  modRevision @3 :Int64;
  version @4 :Int64;
  lease @5 :Int64;
}

struct ResponseHeader {
  clusterId @0 :UInt64;
  memberId @1 :UInt64;
  revision @2 :Int64;   # the key space's revision when the request was served
  raftTerm @3 :UInt64;
}

enum ErrorCode {
  ok @0;
  badRequest @1;        # a field is missing, out of range or contradictory
  notFound @2;          # member, key (where a key must exist)
  leaseNotFound @3;
  compacted @4;         # revision older than the compaction point: see compactRevision
  futureRevision @5;    # revision newer than the current one
  tooLarge @6;          # past a documented bound (request bytes, txn ops, value size)
  notLeader @7;         # this member cannot serve it: see leaderHint
  unavailable @8;       # no leader, member stopping, too many pending proposals
  permissionDenied @9;
  storage @10;
  internal @11;
  malformed @12;        # the request could not be decoded
  unknownRequest @13;   # a request kind this member does not know (newer client)
  timeout @14;          # the request was not committed in time; outcome unknown
  unauthenticated @15;  # wrong user or password; a token that is forged, expired or outdated
  noSpace @16;          # a member's data dir is below its free-space reserve (NOSPACE alarm): writes refused
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
  leaderHint @2 :Text;        # notLeader: client endpoint of the leader, when known
  compactRevision @3 :Int64;  # compacted: the current compaction point
}

# --- key space ---------------------------------------------------------------

struct RangeRequest {
  key @0 :Data;
  rangeEnd @1 :Data;
  limit @2 :Int64;         # 0 = no limit
  revision @3 :Int64;      # 0 = current
  keysOnly @4 :Bool;
  countOnly @5 :Bool;
  serializable @6 :Bool;   # false: linearizable (ReadIndex); true: local, possibly stale
}
struct RangeResponse {
  kvs @0 :List(KeyValue);
  more @1 :Bool;           # more keys matched than `limit`
  count @2 :Int64;         # all matches, ignoring limit
}

struct PutRequest {
  key @0 :Data;
  value @1 :Data;
  lease @2 :Int64;         # 0 = none
  prevKv @3 :Bool;
  ignoreValue @4 :Bool;    # keep the current value (key must exist)
  ignoreLease @5 :Bool;    # keep the current lease (key must exist)
}
struct PutResponse {
  hasPrevKv @0 :Bool;
  prevKv @1 :KeyValue;
}

struct DeleteRangeRequest {
  key @0 :Data;
  rangeEnd @1 :Data;
  prevKv @2 :Bool;
}
struct DeleteRangeResponse {
  deleted @0 :Int64;
  prevKvs @1 :List(KeyValue);
}

struct Compare {
  enum Target { version @0; create @1; mod @2; value @3; lease @4; }
  enum Result { equal @0; greater @1; less @2; notEqual @3; }
  target @0 :Target;
  result @1 :Result;
  key @2 :Data;
  rangeEnd @3 :Data;       # empty: one key; else every key in range must satisfy it
  union {
    version @4 :Int64;
    createRevision @5 :Int64;
    modRevision @6 :Int64;
    value @7 :Data;
    lease @8 :Int64;
  }
}

struct RequestOp {
  union {
    range @0 :RangeRequest;
    put @1 :PutRequest;
    deleteRange @2 :DeleteRangeRequest;
    txn @3 :TxnRequest;
  }
}
struct ResponseOp {
  union {
    range @0 :RangeResponse;
    put @1 :PutResponse;
    deleteRange @2 :DeleteRangeResponse;
    txn @3 :TxnResponse;
  }
}

struct TxnRequest {
  compare @0 :List(Compare);
  success @1 :List(RequestOp);
  failure @2 :List(RequestOp);
}
struct TxnResponse {
  succeeded @0 :Bool;
  responses @1 :List(ResponseOp);
}

# The direct children of a '/'-separated directory: `ls /apps/web` lists
# `/apps/web/<name>` keys and the implied sub-directories, one level deep.
struct ListRequest {
  dir @0 :Data;
  revision @1 :Int64;
  serializable @2 :Bool;
  limit @3 :Int64;
}
struct DirEntry {
  name @0 :Data;           # the child's last path element
  isDir @1 :Bool;          # keys exist below it
  hasKey @2 :Bool;         # the child path itself is a key
  kv @3 :KeyValue;         # when hasKey
}
struct ListResponse {
  entries @0 :List(DirEntry);
  more @1 :Bool;
}

struct CompactionRequest {
  revision @0 :Int64;
}
struct CompactionResponse {}

# --- leases ------------------------------------------------------------------

# Lease TTLs. A grant below the minimum TTL is raised to it, not refused
# (as etcd): the minimum is 1.5 election timeouts (election-ticks x tick-ms)
# rounded up to whole seconds, at least 1 (2 s with corrald's defaults), so
# a lease outlasts a leader election. The leader raises it before proposing,
# so every member applies the same TTL; the response names the TTL granted.
# A lease expires no earlier than its TTL after its grant or its last
# answered keep-alive, and, whatever the leader changes, no later than that
# plus one election (plus the lease checkpoint interval, 5 s, if it was kept
# alive): the leader replicates remaining TTLs (coordinator/lease/lessor.h).
struct LeaseGrantRequest {
  ttl @0 :Int64;           # seconds; raised to the minimum TTL (above)
  id @1 :Int64;            # 0: the cluster chooses
  # Keys put with the new lease in the grant's own entry and revision: after
  # it either the lease holds every one of them or nothing happened (an agent
  # registers in one round trip and never leaves a lease without its key).
  # At most 128 (kv's kMaxTxnOps); each checked as a put.
  puts @2 :List(LeaseKeyPut);
}
struct LeaseKeyPut {
  key @0 :Data;
  value @1 :Data;
}
struct LeaseGrantResponse {
  id @0 :Int64;
  ttl @1 :Int64;           # granted (may be raised to the minimum TTL)
}
struct LeaseRevokeRequest { id @0 :Int64; }
struct LeaseRevokeResponse {}
# One keepalive refreshes one lease; clients send them on the same connection
# as often as they like (a stream in etcd's terms).
# Answered only by a leader that confirmed its leadership after the
# keepalive arrived (a heartbeat round, batched): a deposed or cut-off leader
# never renews (its keepalives time out or get notLeader / unavailable).
struct LeaseKeepAliveRequest { id @0 :Int64; }
struct LeaseKeepAliveResponse {
  id @0 :Int64;
  ttl @1 :Int64;           # remaining seconds after the refresh
}
# Many keep-alives in one frame (a client's lease keeper sends one per tick
# per connection): one leadership confirmation round for the whole batch, as
# for single keep-alives above, and one answer naming each id's outcome in
# the order asked. At most 10,000 ids (api/limits.h); past it the whole
# request gets tooLarge and renews nothing. An id may be answered
# leaseNotFound (gone: its owner must know) while the others are renewed.
struct LeaseKeepAliveBatchRequest { ids @0 :List(Int64); }
struct LeaseKeepAliveOutcome {
  id @0 :Int64;
  ttl @1 :Int64;           # remaining seconds after the refresh (error = ok)
  error @2 :ErrorCode;     # ok, leaseNotFound, or why it was not renewed (retry)
}
struct LeaseKeepAliveBatchResponse { outcomes @0 :List(LeaseKeepAliveOutcome); }
# Many registrations in one request (issue 12): each grant is a
# LeaseGrantRequest as above (its own ttl, id and keys) and the whole batch
# is proposed as ONE raft entry. Apply runs the grants in the order given,
# each in its own revision and all or nothing for itself, as a single grant:
# a grant that fails (its id is taken, a key is refused, past 128 keys) gets
# its own error in its outcome and changes nothing, while the others are
# granted. Grants with id 0 get distinct cluster-chosen ids. At most 10,000
# grants and 20,000 keys summed (api/limits.h), within the request byte
# bound; past it, or with no grant, the whole request is refused (tooLarge,
# badRequest) and changes nothing; so is a batch with any key the user may
# not write (permissionDenied). A member that does not know it answers
# unknownRequest: the client then sends single grants.
# Versioning: the batch travels inside a command entry as this Request and
# needs apply version 2 (coordinator/server/apply_version.h): the leader
# answers unknownRequest while any member has not published version 2, and
# a member whose binary predates it stops at such an entry instead of
# skipping it.
struct LeaseGrantBatchRequest { grants @0 :List(LeaseGrantRequest); }
struct LeaseGrantOutcome {
  id @0 :Int64;            # granted id (error = ok), else the id asked for
  ttl @1 :Int64;           # granted TTL (error = ok)
  error @2 :ErrorCode;     # ok, or why this grant changed nothing
  message @3 :Text;        # error != ok: the reason, as Error.message
}
struct LeaseGrantBatchResponse { outcomes @0 :List(LeaseGrantOutcome); }
struct LeaseTimeToLiveRequest {
  id @0 :Int64;
  keys @1 :Bool;
}
struct LeaseTimeToLiveResponse {
  id @0 :Int64;
  ttl @1 :Int64;           # remaining seconds; -1 if expired or unknown
  grantedTtl @2 :Int64;
  keys @3 :List(Data);
}
struct LeaseLeasesRequest {}
struct LeaseLeasesResponse { ids @0 :List(Int64); }

# --- watches -------------------------------------------------------------------

struct WatchCreateRequest {
  key @0 :Data;
  rangeEnd @1 :Data;
  startRevision @2 :Int64;   # 0: from the next revision
  prevKv @3 :Bool;
  progressNotify @4 :Bool;   # periodic progress notifications when idle
  noPut @5 :Bool;
  noDelete @6 :Bool;
}
struct WatchCreateResponse { watchId @0 :Int64; }
struct WatchCancelRequest { watchId @0 :Int64; }
struct WatchCancelResponse {}
struct WatchProgressRequest {}   # answered by a WatchControl progress on every watch
struct WatchProgressResponse {}

struct Event {
  enum Type { put @0; delete @1; }
  type @0 :Type;
  kv @1 :KeyValue;
  hasPrevKv @2 :Bool;
  prevKv @3 :KeyValue;
}

# Events of whole revisions, for every listed watch on this connection (the
# member encodes a batch once and sends it to all watches that match it).
struct WatchEvents {
  header @0 :ResponseHeader;
  watchIds @1 :List(Int64);
  events @2 :List(Event);
}

struct WatchControl {
  watchId @0 :Int64;
  header @1 :ResponseHeader;
  union {
    progress @2 :Void;       # nothing before header.revision is still to come
    canceled @3 :Error;      # compacted (with compactRevision), slow watcher, closed
  }
}

# --- cluster -------------------------------------------------------------------

struct Member {
  id @0 :UInt64;
  name @1 :Text;
  peerUrls @2 :List(Text);
  clientUrls @3 :List(Text);
  isLearner @4 :Bool;
  # The newest replicated-entry version the member's binary applies
  # (coordinator/server/apply_version.h); 0: a binary from before versions (1).
  applyVersion @5 :UInt32;
}
struct MemberListRequest {}
struct MemberListResponse { members @0 :List(Member); }
struct MemberAddRequest {
  name @0 :Text;
  peerUrls @1 :List(Text);
  clientUrls @2 :List(Text);
  isLearner @3 :Bool;
}
struct MemberAddResponse {
  member @0 :Member;
  members @1 :List(Member);
}
struct MemberRemoveRequest { id @0 :UInt64; }
struct MemberRemoveResponse { members @0 :List(Member); }
struct MemberPromoteRequest { id @0 :UInt64; }
struct MemberPromoteResponse { members @0 :List(Member); }
struct MoveLeaderRequest { targetId @0 :UInt64; }
struct MoveLeaderResponse {}

struct StatusRequest {}
struct StatusResponse {
  version @0 :Text;
  dbSizeBytes @1 :Int64;      # what --quota-backend-bytes counts (see DefragmentRequest)
  leader @2 :UInt64;
  raftIndex @3 :UInt64;
  raftTerm @4 :UInt64;
  raftAppliedIndex @5 :UInt64;
  isLearner @6 :Bool;
  errors @7 :List(Text);
  loopTurns @8 :LoopTurnStats;
}

# How long the member's node-loop turns took since it started (the work of a
# turn, not its wait for input): a turn that outlasts an election timeout
# costs a leader its leadership. bucketCounts[i] counts turns of at most
# bucketUpperMicros[i] microseconds (and above the bucket before); the last
# bucket has no upper bound (its bound is 2^64-1).
struct LoopTurnStats {
  count @0 :UInt64;
  maxMicros @1 :UInt64;
  bucketUpperMicros @2 :List(UInt64);
  bucketCounts @3 :List(UInt64);
}

# A consistent image of the member's database, in chunks: every chunk is one
# Response to the same request id; the last has remainingBytes = 0.
struct SnapshotRequest {}
struct SnapshotResponse {
  blob @0 :Data;
  remainingBytes @1 :Int64;
}

# Checks and chores on the member that answers (no raft), one kind per
# union member; later kinds take the next ordinals.
struct MaintenanceRequest {
  union {
    none @0 :Void;                  # no kind: refused with badRequest (a union needs two members)
    hashKv @1 :HashKvRequest;
    alarm @2 :AlarmRequest;
  }
}
struct MaintenanceResponse {
  union {
    none @0 :Void;
    hashKv @1 :HashKvResponse;
    alarm @2 :AlarmResponse;
  }
}

# etcd's alarms (only NOSPACE here). A member whose data dir has less free
# space than --disk-reserve-bytes raises NOSPACE for itself through raft;
# while any alarm stands, every member refuses puts, deletes, txns and lease
# grants with noSpace; reads, watches, keep-alives, revokes and compaction
# go on. list is answered locally; raise and disarm go through raft.
enum AlarmAction {
  list @0;
  raise @1;     # memberId's alarm (members raise their own)
  disarm @2;    # memberId's alarm, or every alarm with memberId 0
}
enum AlarmType {
  none @0;
  noSpace @1;
}
struct AlarmRequest {
  action @0 :AlarmAction;
  memberId @1 :UInt64;
  alarm @2 :AlarmType;
}
struct AlarmMember {
  memberId @0 :UInt64;
  alarm @1 :AlarmType;
}
struct AlarmResponse {
  alarms @0 :List(AlarmMember);   # list: those standing; raise/disarm: those standing after it
}

# etcd's HashKV: a hash of the key space's MVCC history up to a revision
# (coordinator/kv/kv_hash.h). Members that agree give the same hash at the
# same revision.
struct HashKvRequest {
  revision @0 :Int64;               # 0: the member's current revision
}
struct HashKvResponse {
  hash @0 :UInt64;
  hashRevision @1 :Int64;           # the revision hashed up to
  compactRevision @2 :Int64;
}

# Rewrites this member's key-space and lease tables without deleted and
# compacted-away entries (etcd's defragment): what brings a member that hit
# --quota-backend-bytes back under it, after deletes and a compaction.
struct DefragmentRequest {}
struct DefragmentResponse {
  dbSizeBytesBefore @0 :Int64;
  dbSizeBytesAfter @1 :Int64;
}

# --- users, roles, permissions (etcd's auth model) ------------------------------
#
# With auth enabled every request runs as a user: the one its `token` names,
# else the transport's (a CURVE client key), else anonymous. Anonymous may
# only authenticate and ask status, member list and auth status. A user with
# the role `root` may do anything; administration (users, roles, auth on or
# off, compaction, defragment, snapshot, members) needs it. Other users get
# what their roles' permissions grant, key by key (permissionDenied names
# the key and the user).

struct Permission {
  enum Type { read @0; write @1; readwrite @2; }
  type @0 :Type;
  key @1 :Data;
  rangeEnd @2 :Data;       # the range conventions above: empty = the key alone
}

struct AuthRequest {
  union {
    authenticate @0 :AuthAuthenticate;
    userAdd @1 :AuthUserAdd;
    userDelete @2 :AuthName;
    userGet @3 :AuthName;
    userList @4 :Void;
    userChangePassword @5 :AuthUserAdd;      # name, new password
    userGrantRole @6 :AuthUserRole;
    userRevokeRole @7 :AuthUserRole;
    roleAdd @8 :AuthName;
    roleDelete @9 :AuthName;
    roleGet @10 :AuthName;
    roleList @11 :Void;
    roleGrantPermission @12 :AuthRolePermission;
    roleRevokePermission @13 :AuthRolePermission;   # perm.key and perm.rangeEnd name it
    authEnable @14 :Void;
    authDisable @15 :Void;
    authStatus @16 :Void;
  }
  # Filled by the leader before it proposes (a client's values are replaced):
  # the salted password hash of userAdd/userChangePassword (the password
  # itself never enters the raft log) and the token signing key of authEnable.
  hashedPassword @17 :Data;
  signingKey @18 :Data;
}
struct AuthAuthenticate {
  name @0 :Text;
  password @1 :Text;
}
struct AuthUserAdd {
  name @0 :Text;
  password @1 :Text;
  noPassword @2 :Bool;     # a user that can only come from the transport (a client key, a certificate)
}
struct AuthName { name @0 :Text; }
struct AuthUserRole {
  user @0 :Text;
  role @1 :Text;
}
struct AuthRolePermission {
  role @0 :Text;
  perm @1 :Permission;
}

struct AuthResponse {
  union {
    authenticate @0 :Text;          # the token
    done @1 :Void;                  # every change
    user @2 :AuthUserInfo;          # userGet
    names @3 :List(Text);           # userList, roleList
    role @4 :AuthRoleInfo;          # roleGet
    status @5 :AuthStatusInfo;      # authStatus
  }
}
struct AuthUserInfo {
  name @0 :Text;
  roles @1 :List(Text);
}
struct AuthRoleInfo {
  name @0 :Text;
  perms @1 :List(Permission);
}
struct AuthStatusInfo {
  enabled @0 :Bool;
  authRevision @1 :UInt64;
}

# --- envelopes -------------------------------------------------------------------

struct Request {
  id @0 :UInt64;             # chosen by the client, repeated in the Response
  union {
    range @1 :RangeRequest;
    put @2 :PutRequest;
    deleteRange @3 :DeleteRangeRequest;
    txn @4 :TxnRequest;
    list @5 :ListRequest;
    compaction @6 :CompactionRequest;
    leaseGrant @7 :LeaseGrantRequest;
    leaseRevoke @8 :LeaseRevokeRequest;
    leaseKeepAlive @9 :LeaseKeepAliveRequest;
    leaseTimeToLive @10 :LeaseTimeToLiveRequest;
    leaseLeases @11 :LeaseLeasesRequest;
    watchCreate @12 :WatchCreateRequest;
    watchCancel @13 :WatchCancelRequest;
    watchProgress @14 :WatchProgressRequest;
    memberList @15 :MemberListRequest;
    memberAdd @16 :MemberAddRequest;
    memberRemove @17 :MemberRemoveRequest;
    memberPromote @18 :MemberPromoteRequest;
    moveLeader @19 :MoveLeaderRequest;
    status @20 :StatusRequest;
    snapshot @21 :SnapshotRequest;
    defragment @22 :DefragmentRequest;
    auth @23 :AuthRequest;
    maintenance @25 :MaintenanceRequest;
    leaseKeepAliveBatch @26 :LeaseKeepAliveBatchRequest;
    leaseGrantBatch @27 :LeaseGrantBatchRequest;
  }
  # A token from AuthRequest.authenticate: the request runs as its user.
  token @24 :Text;
}

struct Response {
  id @0 :UInt64;
  header @1 :ResponseHeader;
  union {
    error @2 :Error;
    range @3 :RangeResponse;
    put @4 :PutResponse;
    deleteRange @5 :DeleteRangeResponse;
    txn @6 :TxnResponse;
    list @7 :ListResponse;
    compaction @8 :CompactionResponse;
    leaseGrant @9 :LeaseGrantResponse;
    leaseRevoke @10 :LeaseRevokeResponse;
    leaseKeepAlive @11 :LeaseKeepAliveResponse;
    leaseTimeToLive @12 :LeaseTimeToLiveResponse;
    leaseLeases @13 :LeaseLeasesResponse;
    watchCreate @14 :WatchCreateResponse;
    watchCancel @15 :WatchCancelResponse;
    watchProgress @16 :WatchProgressResponse;
    memberList @17 :MemberListResponse;
    memberAdd @18 :MemberAddResponse;
    memberRemove @19 :MemberRemoveResponse;
    memberPromote @20 :MemberPromoteResponse;
    moveLeader @21 :MoveLeaderResponse;
    status @22 :StatusResponse;
    snapshot @23 :SnapshotResponse;
    defragment @24 :DefragmentResponse;
    auth @25 :AuthResponse;
    maintenance @26 :MaintenanceResponse;
    leaseKeepAliveBatch @27 :LeaseKeepAliveBatchResponse;
    leaseGrantBatch @28 :LeaseGrantBatchResponse;
  }
}

# Everything a member sends to a client connection.
struct ServerMessage {
  union {
    response @0 :Response;
    watchEvents @1 :WatchEvents;
    watchControl @2 :WatchControl;
  }
}
