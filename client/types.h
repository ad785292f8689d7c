// The client's plain request and response values, one per api.capnp request
// kind. Byte strings are std::string (keys need not be UTF-8). A request type
// names its response type as `Req::Response`, which is what Client::call
// returns for it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "client/error.h"

namespace corral::client {

struct Header {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  int64_t revision = 0;
  uint64_t raft_term = 0;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  bool operator==(const KeyValue&) const = default;
};

// The end of the range of every key starting with `prefix` (etcd's
// GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented;
// "\0" (every key) when the prefix is empty or all 0xff.
std::string prefix_range_end(const std::string& prefix);

// --- key space -----------------------------------------------------------------

struct RangeResult {
  Header header;
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
};
struct RangeRequest {
  using Response = RangeResult;
  std::string key;
  std::string range_end;  // empty: the single key; "\0": every key >= key
  int64_t limit = 0;
  int64_t revision = 0;
  bool keys_only = false;
  bool count_only = false;
  bool serializable = false;
};

struct PutResult {
  Header header;
  bool has_prev_kv = false;
  KeyValue prev_kv;
};
struct PutRequest {
  using Response = PutResult;
  std::string key;
  std::string value;
  int64_t lease = 0;
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct DeleteResult {
  Header header;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};
struct DeleteRequest {
  using Response = DeleteResult;
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct Compare {
  enum class Target : uint8_t { kVersion, kCreate, kMod, kValue, kLease };
  enum class Op : uint8_t { kEqual, kGreater, kLess, kNotEqual };
  Target target = Target::kVersion;
  Op op = Op::kEqual;
  std::string key;
  std::string range_end;
  int64_t number = 0;  // version, create/mod revision or lease, by target
  std::string value;   // kValue
};

struct TxnRequest;
struct TxnResult;
// One operation inside a txn: a range, put, delete or nested txn (boxed in a
// vector of one so that the recursive type stays a value).
struct TxnOp {
  std::variant<RangeRequest, PutRequest, DeleteRequest, std::vector<TxnRequest>> op;
};
struct TxnOpResult {
  std::variant<RangeResult, PutResult, DeleteResult, std::vector<TxnResult>> result;
};
struct TxnResult {
  Header header;
  bool succeeded = false;
  std::vector<TxnOpResult> responses;
};
struct TxnRequest {
  using Response = TxnResult;
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
  bool has_key = false;
  KeyValue kv;
};
struct ListResult {
  Header header;
  std::vector<DirEntry> entries;
  bool more = false;
};
struct ListRequest {
  using Response = ListResult;
  std::string dir;
  int64_t revision = 0;
  bool serializable = false;
  int64_t limit = 0;
};

struct CompactResult {
  Header header;
};
struct CompactRequest {
  using Response = CompactResult;
  int64_t revision = 0;
};

// --- leases ------------------------------------------------------------------------

struct LeaseGrantResult {
  Header header;
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};
// A key put with a new lease in the grant itself (see LeaseGrantRequest::puts).
struct LeaseKeyPut {
  std::string key;
  std::string value;
};
struct LeaseGrantRequest {
  using Response = LeaseGrantResult;
  int64_t ttl_seconds = 0;
  int64_t id = 0;  // 0: the cluster chooses
  // Put with the new lease in the grant's own revision, all or nothing: a
  // registration (lease + its keys) in one round trip. At most 128.
  std::vector<LeaseKeyPut> puts;
};

// Many registrations in one request and one raft entry (see
// LeaseGrantBatchRequest in schema/api.capnp): one outcome per grant, in the
// order asked; a grant that fails changes nothing and the others stand. At
// most kMaxGrantBatchGrants grants and kMaxGrantBatchKeys keys summed; past
// either the call fails kTooLarge and nothing is granted.
inline constexpr size_t kMaxGrantBatchGrants = 10'000;  // corrald's api/limits.h
inline constexpr size_t kMaxGrantBatchKeys = 20'000;
struct LeaseGrantOutcome {
  int64_t id = 0;                    // granted (kOk), else the id asked for
  int64_t ttl_seconds = 0;           // granted TTL (kOk)
  ErrorCode error = ErrorCode::kOk;  // why this grant changed nothing
  std::string message;
};
struct LeaseGrantBatchResult {
  Header header;
  std::vector<LeaseGrantOutcome> outcomes;
};
struct LeaseGrantBatchRequest {
  using Response = LeaseGrantBatchResult;
  std::vector<LeaseGrantRequest> grants;
};

struct LeaseRevokeResult {
  Header header;
};
struct LeaseRevokeRequest {
  using Response = LeaseRevokeResult;
  int64_t id = 0;
};

struct LeaseKeepAliveResult {
  Header header;
  int64_t id = 0;
  int64_t ttl_seconds = 0;  // remaining after the refresh; <= 0: the lease is gone
};
struct LeaseKeepAliveRequest {
  using Response = LeaseKeepAliveResult;
  int64_t id = 0;
};

// Many keep-alives in one frame (what a LeaseKeeper sends each tick): one
// outcome per id, in the order asked. At most kMaxKeepAliveBatchIds ids;
// past it the member answers kTooLarge and renews nothing.
inline constexpr size_t kMaxKeepAliveBatchIds = 10'000;  // corrald's api/limits.h
struct LeaseKeepAliveOutcome {
  int64_t id = 0;
  int64_t ttl_seconds = 0;             // error kOk: remaining after the refresh
  ErrorCode error = ErrorCode::kOk;    // kLeaseNotFound: gone; others: not renewed, retry
};
struct LeaseKeepAliveBatchResult {
  Header header;
  std::vector<LeaseKeepAliveOutcome> outcomes;
};
struct LeaseKeepAliveBatchRequest {
  using Response = LeaseKeepAliveBatchResult;
  std::vector<int64_t> ids;
};

struct LeaseTtlResult {
  Header header;
  int64_t id = 0;
  int64_t ttl_seconds = 0;  // -1: expired or unknown
  int64_t granted_ttl_seconds = 0;
  std::vector<std::string> keys;
};
struct LeaseTtlRequest {
  using Response = LeaseTtlResult;
  int64_t id = 0;
  bool keys = false;
};

struct LeaseListResult {
  Header header;
  std::vector<int64_t> ids;
};
struct LeaseListRequest {
  using Response = LeaseListResult;
};

// --- watches (used by Client::watch; exposed for the codec and its tests) -----------

struct WatchCreateResult {
  Header header;
  int64_t watch_id = 0;
};
struct WatchCreateRequest {
  using Response = WatchCreateResult;
  std::string key;
  std::string range_end;
  int64_t start_revision = 0;
  bool prev_kv = false;
  bool progress_notify = false;
  bool no_put = false;
  bool no_delete = false;
};
struct WatchCancelResult {
  Header header;
};
struct WatchCancelRequest {
  using Response = WatchCancelResult;
  int64_t watch_id = 0;
};
struct WatchProgressResult {
  Header header;
};
struct WatchProgressRequest {
  using Response = WatchProgressResult;
};

// --- cluster -------------------------------------------------------------------------

struct Member {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};
struct MemberListResult {
  Header header;
  std::vector<Member> members;
  Member added;  // member add only
};
struct MemberListRequest {
  using Response = MemberListResult;
};
struct MemberAddRequest {
  using Response = MemberListResult;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};
struct MemberRemoveRequest {
  using Response = MemberListResult;
  uint64_t id = 0;
};
struct MemberPromoteRequest {
  using Response = MemberListResult;
  uint64_t id = 0;
};
struct MoveLeaderResult {
  Header header;
};
struct MoveLeaderRequest {
  using Response = MoveLeaderResult;
  uint64_t target_id = 0;
};

struct StatusResult {
  Header header;
  std::string version;
  int64_t db_size_bytes = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;
  // The member's node-loop turns: how many, and the longest, in microseconds.
  uint64_t loop_turns = 0;
  uint64_t loop_turn_max_micros = 0;
  // (upper bound in microseconds, turns) per histogram bucket.
  std::vector<std::pair<uint64_t, uint64_t>> loop_turn_buckets;
};
struct StatusRequest {
  using Response = StatusResult;
};

// One chunk of a snapshot stream; the last has remaining_bytes == 0.
struct SnapshotChunk {
  Header header;
  std::string blob;
  int64_t remaining_bytes = 0;
};
struct SnapshotRequest {
  using Response = SnapshotChunk;
};

// Defragments the member's key-space tables (etcd's defragment): sizes are
// what --quota-backend-bytes counts.
struct DefragmentResult {
  Header header;
  int64_t db_size_bytes_before = 0;
  int64_t db_size_bytes_after = 0;
};
struct DefragmentRequest {
  using Response = DefragmentResult;
};

// --- users, roles, permissions (etcd's auth) -----------------------------------------

struct AuthPermission {
  enum class Type : uint8_t { kRead, kWrite, kReadWrite };
  Type type = Type::kRead;
  std::string key;
  std::string range_end;  // empty: the key alone; prefix_range_end(p) for a prefix
};

// The answer of every auth request; which fields are set follows the kind.
struct AuthResult {
  Header header;
  std::string token;                 // kAuthenticate
  std::string name;                  // kUserGet, kRoleGet
  std::vector<std::string> roles;    // kUserGet
  std::vector<std::string> names;    // kUserList, kRoleList
  std::vector<AuthPermission> perms; // kRoleGet
  bool enabled = false;              // kAuthStatus
  uint64_t auth_revision = 0;        // kAuthStatus
};

struct AuthRequest {
  using Response = AuthResult;
  // In api.capnp's AuthRequest union order.
  enum class Kind : uint8_t {
    kAuthenticate, kUserAdd, kUserDelete, kUserGet, kUserList, kUserChangePassword,
    kUserGrantRole, kUserRevokeRole, kRoleAdd, kRoleDelete, kRoleGet, kRoleList,
    kRoleGrantPermission, kRoleRevokePermission, kAuthEnable, kAuthDisable, kAuthStatus,
  };
  Kind kind = Kind::kAuthStatus;
  std::string name;      // the user (or the role of role requests)
  std::string password;  // kAuthenticate, kUserAdd, kUserChangePassword
  bool no_password = false;  // kUserAdd: no password login (a transport identity)
  std::string role;      // kUserGrantRole, kUserRevokeRole
  AuthPermission perm;   // kRoleGrantPermission; key and range_end for kRoleRevokePermission
};

// etcd's HashKV (schema/api.capnp HashKvRequest): a hash of the key
// space's history up to a revision on one member; members that agree give
// the same hash at the same revision.
struct HashKvResult {
  Header header;
  uint64_t hash = 0;
  int64_t hash_revision = 0;
  int64_t compact_revision = 0;
};
struct HashKvRequest {
  using Response = HashKvResult;
  int64_t revision = 0;  // 0: the member's current revision
};

// etcd's alarms (schema/api.capnp AlarmRequest; NOSPACE only): list
// answers from the member asked; disarm goes through raft and is refused
// with kNoSpace while the leader's disk is still below its reserve.
struct AlarmMember {
  uint64_t member_id = 0;
  std::string alarm;  // "NOSPACE"
};
struct AlarmResult {
  Header header;
  std::vector<AlarmMember> alarms;  // standing (after a disarm: those left)
};
struct AlarmRequest {
  using Response = AlarmResult;
  enum class Action : uint8_t { kList, kDisarm };
  Action action = Action::kList;
  uint64_t member_id = 0;  // kDisarm: 0 disarms every alarm
};

// --- envelopes -------------------------------------------------------------------------

using RequestBody =
    std::variant<RangeRequest, PutRequest, DeleteRequest, TxnRequest, ListRequest,
                 CompactRequest, LeaseGrantRequest, LeaseRevokeRequest, LeaseKeepAliveRequest,
                 LeaseTtlRequest, LeaseListRequest, WatchCreateRequest, WatchCancelRequest,
                 WatchProgressRequest, MemberListRequest, MemberAddRequest, MemberRemoveRequest,
                 MemberPromoteRequest, MoveLeaderRequest, StatusRequest, SnapshotRequest,
                 DefragmentRequest, AuthRequest, HashKvRequest, AlarmRequest,
                 LeaseKeepAliveBatchRequest, LeaseGrantBatchRequest>;

using ResponseBody =
    std::variant<RangeResult, PutResult, DeleteResult, TxnResult, ListResult, CompactResult,
                 LeaseGrantResult, LeaseRevokeResult, LeaseKeepAliveResult, LeaseTtlResult,
                 LeaseListResult, WatchCreateResult, WatchCancelResult, WatchProgressResult,
                 MemberListResult, MoveLeaderResult, StatusResult, SnapshotChunk,
                 DefragmentResult, AuthResult, HashKvResult, AlarmResult,
                 LeaseKeepAliveBatchResult, LeaseGrantBatchResult>;

struct WatchEvent {
  enum class Type : uint8_t { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;
  bool has_prev_kv = false;
  KeyValue prev_kv;
};

}  // namespace corral::client
