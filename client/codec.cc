#include "client/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <type_traits>

#include "schema/api.capnp.h"
#include "schema/data_bytes.h"

namespace corral::client {
namespace api = corral::schema::api;

namespace {

capnp::Data::Reader data_of(const std::string& s) { return schema::as_data(s); }
capnp::Text::Reader text_of(const std::string& s) { return capnp::Text::Reader(s.c_str(), s.size()); }
std::string str_of(capnp::Data::Reader d) { return schema::as_string(d); }
std::string str_of(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// --- encoding ----------------------------------------------------------------------

void fill(api::RangeRequest::Builder b, const RangeRequest& r) {
  b.setKey(data_of(r.key));
  b.setRangeEnd(data_of(r.range_end));
  b.setLimit(r.limit);
  b.setRevision(r.revision);
  b.setKeysOnly(r.keys_only);
  b.setCountOnly(r.count_only);
  b.setSerializable(r.serializable);
}
void fill(api::PutRequest::Builder b, const PutRequest& r) {
  b.setKey(data_of(r.key));
  b.setValue(data_of(r.value));
  b.setLease(r.lease);
  b.setPrevKv(r.prev_kv);
  b.setIgnoreValue(r.ignore_value);
  b.setIgnoreLease(r.ignore_lease);
}
void fill(api::DeleteRangeRequest::Builder b, const DeleteRequest& r) {
  b.setKey(data_of(r.key));
  b.setRangeEnd(data_of(r.range_end));
  b.setPrevKv(r.prev_kv);
}
void fill(api::LeaseGrantRequest::Builder b, const LeaseGrantRequest& r) {
  b.setTtl(r.ttl_seconds);
  b.setId(r.id);
  if (r.puts.empty()) return;
  auto puts = b.initPuts(static_cast<unsigned>(r.puts.size()));
  for (unsigned i = 0; i < puts.size(); ++i) {
    puts[i].setKey(data_of(r.puts[i].key));
    puts[i].setValue(data_of(r.puts[i].value));
  }
}
// The bounds are checked here too, so that a batch past them is refused
// before it is encoded and sent.
Status encode_grant_batch(const LeaseGrantBatchRequest& r, api::LeaseGrantBatchRequest::Builder b) {
  if (r.grants.size() > kMaxGrantBatchGrants) {
    return make_error(ErrorCode::kTooLarge, "lease grant batch of " + std::to_string(r.grants.size()) +
                                                " grants is past the " + std::to_string(kMaxGrantBatchGrants) +
                                                "-grant bound");
  }
  size_t keys = 0;
  for (const auto& g : r.grants) keys += g.puts.size();
  if (keys > kMaxGrantBatchKeys) {
    return make_error(ErrorCode::kTooLarge, "lease grant batch with " + std::to_string(keys) +
                                                " keys is past the " + std::to_string(kMaxGrantBatchKeys) +
                                                "-key bound");
  }
  auto grants = b.initGrants(static_cast<unsigned>(r.grants.size()));
  for (unsigned i = 0; i < grants.size(); ++i) fill(grants[i], r.grants[i]);
  return Status();
}
void fill(api::Compare::Builder b, const Compare& c) {
  b.setKey(data_of(c.key));
  b.setRangeEnd(data_of(c.range_end));
  b.setResult(static_cast<api::Compare::Result>(c.op));
  switch (c.target) {
    case Compare::Target::kVersion:
      b.setTarget(api::Compare::Target::VERSION);
      b.setVersion(c.number);
      break;
    case Compare::Target::kCreate:
      b.setTarget(api::Compare::Target::CREATE);
      b.setCreateRevision(c.number);
      break;
    case Compare::Target::kMod:
      b.setTarget(api::Compare::Target::MOD);
      b.setModRevision(c.number);
      break;
    case Compare::Target::kValue:
      b.setTarget(api::Compare::Target::VALUE);
      b.setValue(data_of(c.value));
      break;
    case Compare::Target::kLease:
      b.setTarget(api::Compare::Target::LEASE);
      b.setLease(c.number);
      break;
  }
}

Status fill(api::TxnRequest::Builder b, const TxnRequest& t, int depth);

Status fill_ops(capnp::List<api::RequestOp>::Builder list, const std::vector<TxnOp>& ops,
                int depth) {
  for (size_t i = 0; i < ops.size(); ++i) {
    auto op = list[static_cast<unsigned>(i)];
    Status s;
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, RangeRequest>) {
            fill(op.initRange(), o);
          } else if constexpr (std::is_same_v<T, PutRequest>) {
            fill(op.initPut(), o);
          } else if constexpr (std::is_same_v<T, DeleteRequest>) {
            fill(op.initDeleteRange(), o);
          } else {
            if (o.size() != 1) {
              s = make_error(ErrorCode::kBadRequest, "txn: a nested txn op holds exactly one txn");
            } else {
              s = fill(op.initTxn(), o.front(), depth + 1);
            }
          }
        },
        ops[i].op);
    if (!s.ok()) return s;
  }
  return {};
}

Status fill(api::TxnRequest::Builder b, const TxnRequest& t, int depth) {
  if (depth > kMaxTxnDepth) {
    return make_error(ErrorCode::kBadRequest,
                      "txn: nested deeper than " + std::to_string(kMaxTxnDepth));
  }
  auto cmp = b.initCompare(static_cast<unsigned>(t.compare.size()));
  for (size_t i = 0; i < t.compare.size(); ++i) fill(cmp[static_cast<unsigned>(i)], t.compare[i]);
  if (Status s = fill_ops(b.initSuccess(static_cast<unsigned>(t.success.size())), t.success, depth);
      !s.ok()) {
    return s;
  }
  return fill_ops(b.initFailure(static_cast<unsigned>(t.failure.size())), t.failure, depth);
}

void fill_urls(capnp::List<capnp::Text>::Builder list, const std::vector<std::string>& urls) {
  for (size_t i = 0; i < urls.size(); ++i) list.set(static_cast<unsigned>(i), text_of(urls[i]));
}

// --- decoding ----------------------------------------------------------------------

Header header_of(api::ResponseHeader::Reader h) {
  return Header{h.getClusterId(), h.getMemberId(), h.getRevision(), h.getRaftTerm()};
}
KeyValue kv_of(api::KeyValue::Reader k) {
  return KeyValue{str_of(k.getKey()),   str_of(k.getValue()), k.getCreateRevision(),
                  k.getModRevision(),   k.getVersion(),       k.getLease()};
}
std::vector<KeyValue> kvs_of(capnp::List<api::KeyValue>::Reader list) {
  std::vector<KeyValue> out;
  out.reserve(list.size());
  for (auto k : list) out.push_back(kv_of(k));
  return out;
}
RangeResult range_of(api::RangeResponse::Reader r) {
  RangeResult out;
  out.kvs = kvs_of(r.getKvs());
  out.more = r.getMore();
  out.count = r.getCount();
  return out;
}
PutResult put_of(api::PutResponse::Reader r) {
  PutResult out;
  out.has_prev_kv = r.getHasPrevKv();
  if (out.has_prev_kv) out.prev_kv = kv_of(r.getPrevKv());
  return out;
}
DeleteResult delete_of(api::DeleteRangeResponse::Reader r) {
  DeleteResult out;
  out.deleted = r.getDeleted();
  out.prev_kvs = kvs_of(r.getPrevKvs());
  return out;
}
TxnResult txn_of(api::TxnResponse::Reader r) {
  TxnResult out;
  out.succeeded = r.getSucceeded();
  for (auto op : r.getResponses()) {
    TxnOpResult one;
    switch (op.which()) {
      case api::ResponseOp::RANGE: one.result = range_of(op.getRange()); break;
      case api::ResponseOp::PUT: one.result = put_of(op.getPut()); break;
      case api::ResponseOp::DELETE_RANGE: one.result = delete_of(op.getDeleteRange()); break;
      case api::ResponseOp::TXN:
        one.result = std::vector<TxnResult>{txn_of(op.getTxn())};
        break;
    }
    out.responses.push_back(std::move(one));
  }
  return out;
}
Member member_of(api::Member::Reader m) {
  Member out;
  out.id = m.getId();
  out.name = str_of(m.getName());
  for (auto u : m.getPeerUrls()) out.peer_urls.push_back(str_of(u));
  for (auto u : m.getClientUrls()) out.client_urls.push_back(str_of(u));
  out.is_learner = m.getIsLearner();
  return out;
}
std::vector<Member> members_of(capnp::List<api::Member>::Reader list) {
  std::vector<Member> out;
  for (auto m : list) out.push_back(member_of(m));
  return out;
}
Error error_of(api::Error::Reader e) {
  Error out;
  out.code = error_code_from_wire(static_cast<uint16_t>(e.getCode()));
  out.message = str_of(e.getMessage());
  out.leader_hint = str_of(e.getLeaderHint());
  out.compact_revision = e.getCompactRevision();
  if (out.code == ErrorCode::kOk) {
    out.code = ErrorCode::kBadResponse;
    out.message = "error reply with code ok: " + out.message;
  }
  return out;
}

void fill_permission(api::Permission::Builder b, const AuthPermission& p) {
  b.setType(p.type == AuthPermission::Type::kRead    ? api::Permission::Type::READ
            : p.type == AuthPermission::Type::kWrite ? api::Permission::Type::WRITE
                                                     : api::Permission::Type::READWRITE);
  b.setKey(data_of(p.key));
  b.setRangeEnd(data_of(p.range_end));
}

void fill_auth(api::AuthRequest::Builder b, const AuthRequest& r) {
  using K = AuthRequest::Kind;
  auto user_add = [&](api::AuthUserAdd::Builder u) {
    u.setName(text_of(r.name));
    u.setPassword(text_of(r.password));
    u.setNoPassword(r.no_password);
  };
  switch (r.kind) {
    case K::kAuthenticate: {
      auto a = b.initAuthenticate();
      a.setName(text_of(r.name));
      a.setPassword(text_of(r.password));
      break;
    }
    case K::kUserAdd: user_add(b.initUserAdd()); break;
    case K::kUserDelete: b.initUserDelete().setName(text_of(r.name)); break;
    case K::kUserGet: b.initUserGet().setName(text_of(r.name)); break;
    case K::kUserList: b.setUserList(); break;
    case K::kUserChangePassword: user_add(b.initUserChangePassword()); break;
    case K::kUserGrantRole:
    case K::kUserRevokeRole: {
      auto u = r.kind == K::kUserGrantRole ? b.initUserGrantRole() : b.initUserRevokeRole();
      u.setUser(text_of(r.name));
      u.setRole(text_of(r.role));
      break;
    }
    case K::kRoleAdd: b.initRoleAdd().setName(text_of(r.name)); break;
    case K::kRoleDelete: b.initRoleDelete().setName(text_of(r.name)); break;
    case K::kRoleGet: b.initRoleGet().setName(text_of(r.name)); break;
    case K::kRoleList: b.setRoleList(); break;
    case K::kRoleGrantPermission:
    case K::kRoleRevokePermission: {
      auto g = r.kind == K::kRoleGrantPermission ? b.initRoleGrantPermission() : b.initRoleRevokePermission();
      g.setRole(text_of(r.name));
      fill_permission(g.initPerm(), r.perm);
      break;
    }
    case K::kAuthEnable: b.setAuthEnable(); break;
    case K::kAuthDisable: b.setAuthDisable(); break;
    case K::kAuthStatus: b.setAuthStatus(); break;
  }
}

AuthResult auth_result(api::AuthResponse::Reader r) {
  AuthResult out;
  switch (r.which()) {
    case api::AuthResponse::AUTHENTICATE: out.token = str_of(r.getAuthenticate()); break;
    case api::AuthResponse::DONE: break;
    case api::AuthResponse::USER:
      out.name = str_of(r.getUser().getName());
      for (auto role : r.getUser().getRoles()) out.roles.push_back(str_of(role));
      break;
    case api::AuthResponse::NAMES:
      for (auto n : r.getNames()) out.names.push_back(str_of(n));
      break;
    case api::AuthResponse::ROLE:
      out.name = str_of(r.getRole().getName());
      for (auto p : r.getRole().getPerms()) {
        AuthPermission perm;
        perm.type = p.getType() == api::Permission::Type::READ    ? AuthPermission::Type::kRead
                    : p.getType() == api::Permission::Type::WRITE ? AuthPermission::Type::kWrite
                                                                  : AuthPermission::Type::kReadWrite;
        perm.key = str_of(p.getKey());
        perm.range_end = str_of(p.getRangeEnd());
        out.perms.push_back(std::move(perm));
      }
      break;
    case api::AuthResponse::STATUS:
      out.enabled = r.getStatus().getEnabled();
      out.auth_revision = r.getStatus().getAuthRevision();
      break;
  }
  return out;
}

ListResult list_of(api::ListResponse::Reader r) {
  ListResult l;
  for (auto e : r.getEntries()) {
    DirEntry d;
    d.name = str_of(e.getName());
    d.is_dir = e.getIsDir();
    d.has_key = e.getHasKey();
    if (d.has_key) d.kv = kv_of(e.getKv());
    l.entries.push_back(std::move(d));
  }
  l.more = r.getMore();
  return l;
}

LeaseKeepAliveBatchResult keepalive_batch_of(api::LeaseKeepAliveBatchResponse::Reader r) {
  LeaseKeepAliveBatchResult l;
  auto outcomes = r.getOutcomes();
  l.outcomes.reserve(outcomes.size());
  for (auto o : outcomes) {
    l.outcomes.push_back(
        LeaseKeepAliveOutcome{o.getId(), o.getTtl(), error_code_from_wire(static_cast<uint16_t>(o.getError()))});
  }
  return l;
}

LeaseGrantBatchResult grant_batch_of(api::LeaseGrantBatchResponse::Reader r) {
  LeaseGrantBatchResult l;
  auto outcomes = r.getOutcomes();
  l.outcomes.reserve(outcomes.size());
  for (auto o : outcomes) {
    l.outcomes.push_back(LeaseGrantOutcome{o.getId(), o.getTtl(), error_code_from_wire(static_cast<uint16_t>(o.getError())),
                                           std::string(o.getMessage().cStr(), o.getMessage().size())});
  }
  return l;
}

LeaseTtlResult lease_ttl_of(api::LeaseTimeToLiveResponse::Reader t) {
  LeaseTtlResult l{{}, t.getId(), t.getTtl(), t.getGrantedTtl(), {}};
  for (auto k : t.getKeys()) l.keys.push_back(str_of(k));
  return l;
}

LeaseListResult lease_list_of(api::LeaseLeasesResponse::Reader r) {
  LeaseListResult l;
  for (int64_t id : r.getIds()) l.ids.push_back(id);
  return l;
}

StatusResult status_of(api::StatusResponse::Reader s) {
  StatusResult st;
  st.version = str_of(s.getVersion());
  st.db_size_bytes = s.getDbSizeBytes();
  st.leader = s.getLeader();
  st.raft_index = s.getRaftIndex();
  st.raft_term = s.getRaftTerm();
  st.raft_applied_index = s.getRaftAppliedIndex();
  st.is_learner = s.getIsLearner();
  for (auto e : s.getErrors()) st.errors.push_back(str_of(e));
  if (s.hasLoopTurns()) {
    auto lt = s.getLoopTurns();
    st.loop_turns = lt.getCount();
    st.loop_turn_max_micros = lt.getMaxMicros();
    auto bounds = lt.getBucketUpperMicros();
    auto counts = lt.getBucketCounts();
    for (unsigned i = 0; i < bounds.size() && i < counts.size(); ++i) {
      st.loop_turn_buckets.emplace_back(bounds[i], counts[i]);
    }
  }
  return st;
}

template <class R>
ResponseBody with_header(R r, const Header& h) {
  r.header = h;
  return r;
}

Result<ResponseBody> maintenance_of(api::MaintenanceResponse::Reader m, const Header& h) {
  if (m.isAlarm()) {
    AlarmResult a;
    for (auto member : m.getAlarm().getAlarms()) {
      a.alarms.push_back(AlarmMember{member.getMemberId(),
                                     member.getAlarm() == api::AlarmType::NO_SPACE ? "NOSPACE" : "UNKNOWN"});
    }
    return with_header(std::move(a), h);
  }
  if (!m.isHashKv()) return make_error(ErrorCode::kBadResponse, "maintenance response of a kind unknown to this client");
  auto hk = m.getHashKv();
  return with_header(HashKvResult{{}, hk.getHash(), hk.getHashRevision(), hk.getCompactRevision()}, h);
}

// One case per response kind; each kind's reader is a function above.
Result<ResponseMessage> response_of(api::Response::Reader r) {
  ResponseMessage out;
  out.id = r.getId();
  out.header = header_of(r.getHeader());
  const Header& h = out.header;
  switch (r.which()) {
    case api::Response::ERROR: out.error = error_of(r.getError()); break;
    case api::Response::RANGE: out.body = with_header(range_of(r.getRange()), h); break;
    case api::Response::PUT: out.body = with_header(put_of(r.getPut()), h); break;
    case api::Response::DELETE_RANGE: out.body = with_header(delete_of(r.getDeleteRange()), h); break;
    case api::Response::TXN: out.body = with_header(txn_of(r.getTxn()), h); break;
    case api::Response::LIST: out.body = with_header(list_of(r.getList()), h); break;
    case api::Response::COMPACTION: out.body = with_header(CompactResult{}, h); break;
    case api::Response::LEASE_GRANT: {
      auto g = r.getLeaseGrant();
      out.body = with_header(LeaseGrantResult{{}, g.getId(), g.getTtl()}, h);
      break;
    }
    case api::Response::LEASE_REVOKE: out.body = with_header(LeaseRevokeResult{}, h); break;
    case api::Response::LEASE_KEEP_ALIVE: {
      auto k = r.getLeaseKeepAlive();
      out.body = with_header(LeaseKeepAliveResult{{}, k.getId(), k.getTtl()}, h);
      break;
    }
    case api::Response::LEASE_KEEP_ALIVE_BATCH:
      out.body = with_header(keepalive_batch_of(r.getLeaseKeepAliveBatch()), h);
      break;
    case api::Response::LEASE_GRANT_BATCH: out.body = with_header(grant_batch_of(r.getLeaseGrantBatch()), h); break;
    case api::Response::LEASE_TIME_TO_LIVE: out.body = with_header(lease_ttl_of(r.getLeaseTimeToLive()), h); break;
    case api::Response::LEASE_LEASES: out.body = with_header(lease_list_of(r.getLeaseLeases()), h); break;
    case api::Response::WATCH_CREATE:
      out.body = with_header(WatchCreateResult{{}, r.getWatchCreate().getWatchId()}, h);
      break;
    case api::Response::WATCH_CANCEL: out.body = with_header(WatchCancelResult{}, h); break;
    case api::Response::WATCH_PROGRESS: out.body = with_header(WatchProgressResult{}, h); break;
    case api::Response::MEMBER_LIST:
      out.body = with_header(MemberListResult{{}, members_of(r.getMemberList().getMembers()), {}}, h);
      break;
    case api::Response::MEMBER_ADD: {
      auto a = r.getMemberAdd();
      out.body = with_header(MemberListResult{{}, members_of(a.getMembers()), member_of(a.getMember())}, h);
      break;
    }
    case api::Response::MEMBER_REMOVE:
      out.body = with_header(MemberListResult{{}, members_of(r.getMemberRemove().getMembers()), {}}, h);
      break;
    case api::Response::MEMBER_PROMOTE:
      out.body = with_header(MemberListResult{{}, members_of(r.getMemberPromote().getMembers()), {}}, h);
      break;
    case api::Response::MOVE_LEADER: out.body = with_header(MoveLeaderResult{}, h); break;
    case api::Response::STATUS: out.body = with_header(status_of(r.getStatus()), h); break;
    case api::Response::SNAPSHOT: {
      auto s = r.getSnapshot();
      out.body = with_header(SnapshotChunk{{}, str_of(s.getBlob()), s.getRemainingBytes()}, h);
      break;
    }
    case api::Response::DEFRAGMENT: {
      auto d = r.getDefragment();
      out.body = with_header(DefragmentResult{{}, d.getDbSizeBytesBefore(), d.getDbSizeBytesAfter()}, h);
      break;
    }
    case api::Response::AUTH: out.body = with_header(auth_result(r.getAuth()), h); break;
    case api::Response::MAINTENANCE: {
      auto body = maintenance_of(r.getMaintenance(), h);
      if (!body.ok()) return body.error();
      out.body = std::move(*body);
      break;
    }
    default:
      return make_error(ErrorCode::kBadResponse,
                        "response kind " + std::to_string(static_cast<int>(r.which())) + " unknown to this client");
  }
  return out;
}

// --- one request body per kind: encode_body(req, r) sets req's union to r ------------
// (a RequestBody kind without an overload here does not compile)

using RequestBuilder = api::Request::Builder;

Status encode_body(RequestBuilder req, const RangeRequest& r) {
  fill(req.initRange(), r);
  return {};
}
Status encode_body(RequestBuilder req, const PutRequest& r) {
  fill(req.initPut(), r);
  return {};
}
Status encode_body(RequestBuilder req, const DeleteRequest& r) {
  fill(req.initDeleteRange(), r);
  return {};
}
Status encode_body(RequestBuilder req, const TxnRequest& r) { return fill(req.initTxn(), r, 1); }
Status encode_body(RequestBuilder req, const ListRequest& r) {
  auto b = req.initList();
  b.setDir(data_of(r.dir));
  b.setRevision(r.revision);
  b.setSerializable(r.serializable);
  b.setLimit(r.limit);
  return {};
}
Status encode_body(RequestBuilder req, const CompactRequest& r) {
  req.initCompaction().setRevision(r.revision);
  return {};
}
Status encode_body(RequestBuilder req, const LeaseGrantRequest& r) {
  fill(req.initLeaseGrant(), r);
  return {};
}
Status encode_body(RequestBuilder req, const LeaseGrantBatchRequest& r) {
  return encode_grant_batch(r, req.initLeaseGrantBatch());
}
Status encode_body(RequestBuilder req, const LeaseRevokeRequest& r) {
  req.initLeaseRevoke().setId(r.id);
  return {};
}
Status encode_body(RequestBuilder req, const LeaseKeepAliveRequest& r) {
  req.initLeaseKeepAlive().setId(r.id);
  return {};
}
Status encode_body(RequestBuilder req, const LeaseKeepAliveBatchRequest& r) {
  if (r.ids.size() > kMaxKeepAliveBatchIds) {
    return make_error(ErrorCode::kTooLarge, "keep-alive batch of " + std::to_string(r.ids.size()) +
                                                " ids is past the " + std::to_string(kMaxKeepAliveBatchIds) +
                                                "-id bound");
  }
  auto ids = req.initLeaseKeepAliveBatch().initIds(static_cast<unsigned>(r.ids.size()));
  for (unsigned i = 0; i < ids.size(); ++i) ids.set(i, r.ids[i]);
  return {};
}
Status encode_body(RequestBuilder req, const LeaseTtlRequest& r) {
  auto b = req.initLeaseTimeToLive();
  b.setId(r.id);
  b.setKeys(r.keys);
  return {};
}
Status encode_body(RequestBuilder req, const LeaseListRequest&) {
  req.initLeaseLeases();
  return {};
}
Status encode_body(RequestBuilder req, const WatchCreateRequest& r) {
  auto b = req.initWatchCreate();
  b.setKey(data_of(r.key));
  b.setRangeEnd(data_of(r.range_end));
  b.setStartRevision(r.start_revision);
  b.setPrevKv(r.prev_kv);
  b.setProgressNotify(r.progress_notify);
  b.setNoPut(r.no_put);
  b.setNoDelete(r.no_delete);
  return {};
}
Status encode_body(RequestBuilder req, const WatchCancelRequest& r) {
  req.initWatchCancel().setWatchId(r.watch_id);
  return {};
}
Status encode_body(RequestBuilder req, const WatchProgressRequest&) {
  req.initWatchProgress();
  return {};
}
Status encode_body(RequestBuilder req, const MemberListRequest&) {
  req.initMemberList();
  return {};
}
Status encode_body(RequestBuilder req, const MemberAddRequest& r) {
  auto b = req.initMemberAdd();
  b.setName(text_of(r.name));
  fill_urls(b.initPeerUrls(static_cast<unsigned>(r.peer_urls.size())), r.peer_urls);
  fill_urls(b.initClientUrls(static_cast<unsigned>(r.client_urls.size())), r.client_urls);
  b.setIsLearner(r.is_learner);
  return {};
}
Status encode_body(RequestBuilder req, const MemberRemoveRequest& r) {
  req.initMemberRemove().setId(r.id);
  return {};
}
Status encode_body(RequestBuilder req, const MemberPromoteRequest& r) {
  req.initMemberPromote().setId(r.id);
  return {};
}
Status encode_body(RequestBuilder req, const MoveLeaderRequest& r) {
  req.initMoveLeader().setTargetId(r.target_id);
  return {};
}
Status encode_body(RequestBuilder req, const StatusRequest&) {
  req.initStatus();
  return {};
}
Status encode_body(RequestBuilder req, const SnapshotRequest&) {
  req.initSnapshot();
  return {};
}
Status encode_body(RequestBuilder req, const DefragmentRequest&) {
  req.initDefragment();
  return {};
}
Status encode_body(RequestBuilder req, const AuthRequest& r) {
  fill_auth(req.initAuth(), r);
  return {};
}
Status encode_body(RequestBuilder req, const HashKvRequest& r) {
  req.initMaintenance().initHashKv().setRevision(r.revision);
  return {};
}
Status encode_body(RequestBuilder req, const AlarmRequest& r) {
  auto a = req.initMaintenance().initAlarm();
  a.setAction(r.action == AlarmRequest::Action::kDisarm ? api::AlarmAction::DISARM : api::AlarmAction::LIST);
  a.setMemberId(r.member_id);
  return {};
}

}  // namespace

ErrorCode error_code_from_wire(uint16_t wire) {
  // api::ErrorCode ordinals 0..14 are ours in the same order.
  if (wire <= static_cast<uint16_t>(ErrorCode::kTimeout)) return static_cast<ErrorCode>(wire);
  if (wire == static_cast<uint16_t>(api::ErrorCode::UNAUTHENTICATED)) return ErrorCode::kUnauthenticated;
  if (wire == static_cast<uint16_t>(api::ErrorCode::NO_SPACE)) return ErrorCode::kNoSpace;
  return ErrorCode::kInternal;
}

Result<std::string> encode_request(uint64_t id, const RequestBody& body) { return encode_request(id, body, {}); }

Result<std::string> encode_request(uint64_t id, const RequestBody& body, std::string_view token) {
  capnp::MallocMessageBuilder message;
  auto req = message.initRoot<api::Request>();
  req.setId(id);
  if (!token.empty()) req.setToken(capnp::Text::Reader(token.data(), token.size()));
  Status status = std::visit([&](const auto& r) { return encode_body(req, r); }, body);
  if (!status.ok()) return status.error();
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<ServerMessage> decode_server_message(std::string_view bytes) {
  if (bytes.size() > kMaxServerMessageBytes) {
    return make_error(ErrorCode::kBadResponse,
                      "server message of " + std::to_string(bytes.size()) + " bytes is too large");
  }
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return make_error(ErrorCode::kBadResponse, "server message of " + std::to_string(bytes.size()) +
                                                   " bytes is not whole Cap'n Proto words");
  }
  // Cap'n Proto reads words in place: copy only when the bytes are misaligned.
  const size_t word_count = bytes.size() / sizeof(capnp::word);
  kj::Array<capnp::word> copy;
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(bytes.data()),
                                            word_count);
  } else {
    copy = kj::heapArray<capnp::word>(word_count);
    std::memcpy(copy.begin(), bytes.data(), bytes.size());
    words = copy.asPtr();
  }
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = word_count * 4 + 1024;
    capnp::FlatArrayMessageReader reader(words, options);
    auto msg = reader.getRoot<api::ServerMessage>();
    switch (msg.which()) {
      case api::ServerMessage::RESPONSE: {
        Result<ResponseMessage> r = response_of(msg.getResponse());
        if (!r.ok()) return r.error();
        return ServerMessage(std::move(r).value());
      }
      case api::ServerMessage::WATCH_EVENTS: {
        auto w = msg.getWatchEvents();
        WatchEventsMessage out;
        out.header = header_of(w.getHeader());
        for (int64_t id : w.getWatchIds()) out.watch_ids.push_back(id);
        for (auto e : w.getEvents()) {
          WatchEvent ev;
          ev.type = e.getType() == api::Event::Type::DELETE ? WatchEvent::Type::kDelete
                                                             : WatchEvent::Type::kPut;
          ev.kv = kv_of(e.getKv());
          ev.has_prev_kv = e.getHasPrevKv();
          if (ev.has_prev_kv) ev.prev_kv = kv_of(e.getPrevKv());
          out.events.push_back(std::move(ev));
        }
        return ServerMessage(std::move(out));
      }
      case api::ServerMessage::WATCH_CONTROL: {
        auto c = msg.getWatchControl();
        WatchControlMessage out;
        out.watch_id = c.getWatchId();
        out.header = header_of(c.getHeader());
        if (c.which() == api::WatchControl::CANCELED) {
          out.canceled = true;
          out.cancel_reason = error_of(c.getCanceled());
        }
        return ServerMessage(std::move(out));
      }
    }
    return make_error(ErrorCode::kBadResponse, "server message kind unknown to this client");
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::kBadResponse,
                      std::string("undecodable server message: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kBadResponse, std::string("undecodable server message: ") + e.what());
  }
}

bool response_matches(const RequestBody& request, const ResponseBody& body) {
  return std::visit(
      [&](const auto& r) {
        using Expected = typename std::decay_t<decltype(r)>::Response;
        return std::holds_alternative<Expected>(body);
      },
      request);
}

}  // namespace corral::client
