#include "coordinator/api/request.h"

#include <cstring>

#include <kj/exception.h>

#include "coordinator/api/schema_walk.h"
#include "coordinator/api/typed_walk.h"
#include "coordinator/kv/txn_check.h"
#include "schema/data_bytes.h"
namespace corral::api {

namespace {

// Cap'n Proto's traversal limit in words, derived from the byte bound so that
// a small message cannot claim a huge tree (amplification by far pointers).
constexpr uint64_t kTraversalWordsPerByte = 2;
constexpr int kNestingLimit = 64;

using schema::as_string;
using schema::as_view;

// Counts ops over every level; returns false past the bounds.
bool txn_within_bounds(wire::TxnRequest::Reader r, size_t depth, size_t& ops) {
  if (depth > kMaxTxnDepth) return false;
  ops += r.getCompare().size() + r.getSuccess().size() + r.getFailure().size();
  if (ops > kMaxTxnOpsPerRequest) return false;
  for (auto list : {r.getSuccess(), r.getFailure()}) {
    for (auto op : list) {
      if (op.isTxn() && !txn_within_bounds(op.getTxn(), depth + 1, ops)) return false;
    }
  }
  return true;
}

// A grant batch past its bounds, or an empty one (api/limits.h): refused
// whole, before anything is proposed.
std::optional<WireError> grant_batch_refusal(wire::LeaseGrantBatchRequest::Reader batch) {
  auto grants = batch.getGrants();
  if (grants.size() == 0) return wire_error(wire::ErrorCode::BAD_REQUEST, "lease grant batch with no grant");
  if (grants.size() > kMaxGrantBatchGrants) {
    return wire_error(wire::ErrorCode::TOO_LARGE, "lease grant batch of " + std::to_string(grants.size()) +
                                                      " grants is past the " + std::to_string(kMaxGrantBatchGrants) +
                                                      "-grant bound");
  }
  size_t keys = 0;
  for (auto g : grants) keys += g.getPuts().size();
  if (keys > kMaxGrantBatchKeys) {
    return wire_error(wire::ErrorCode::TOO_LARGE, "lease grant batch with " + std::to_string(keys) +
                                                      " keys is past the " + std::to_string(kMaxGrantBatchKeys) +
                                                      "-key bound");
  }
  return std::nullopt;
}

// Auth requests that read the auth store (through ReadIndex, so that a user
// just added can authenticate on any member); the others change it.
bool auth_reads(wire::AuthRequest::Reader r) {
  using A = wire::AuthRequest;
  switch (r.which()) {
    case A::AUTHENTICATE:
    case A::USER_GET:
    case A::USER_LIST:
    case A::ROLE_GET:
    case A::ROLE_LIST:
    case A::AUTH_STATUS:
      return true;
    default:
      return false;
  }
}

RequestClass classify(wire::Request::Reader r) {
  using W = wire::Request;
  switch (r.which()) {
    case W::RANGE:
    case W::LIST:
    case W::LEASE_TIME_TO_LIVE:
    case W::LEASE_LEASES:
      return RequestClass::kRead;
    case W::TXN:  // every txn goes through raft: its compares need one serial point
    case W::PUT:
    case W::DELETE_RANGE:
    case W::COMPACTION:
    case W::LEASE_GRANT:
    case W::LEASE_GRANT_BATCH:
    case W::LEASE_REVOKE:
      return RequestClass::kWrite;
    case W::LEASE_KEEP_ALIVE:
    case W::LEASE_KEEP_ALIVE_BATCH:
      return RequestClass::kLeaderLocal;
    case W::WATCH_CREATE:
    case W::WATCH_CANCEL:
    case W::WATCH_PROGRESS:
      return RequestClass::kWatch;
    case W::MEMBER_LIST:
    case W::MEMBER_ADD:
    case W::MEMBER_REMOVE:
    case W::MEMBER_PROMOTE:
    case W::MOVE_LEADER:
      return RequestClass::kCluster;
    case W::STATUS:
    case W::SNAPSHOT:
    case W::DEFRAGMENT:
      return RequestClass::kLocal;
    case W::MAINTENANCE: {
      // Alarm raise and disarm go through raft; list and hashKv do not.
      auto m = r.getMaintenance();
      bool replicated = m.isAlarm() && m.getAlarm().getAction() != wire::AlarmAction::LIST;
      return replicated ? RequestClass::kWrite : RequestClass::kLocal;
    }
    case W::AUTH:
      return auth_reads(r.getAuth()) ? RequestClass::kRead : RequestClass::kWrite;
  }
  return RequestClass::kLocal;
}

}  // namespace

bool ParsedRequest::linearizable_read() const {
  switch (root_.which()) {
    case wire::Request::RANGE: return !root_.getRange().getSerializable();
    case wire::Request::LIST: return !root_.getList().getSerializable();
    case wire::Request::AUTH: return class_ == RequestClass::kRead;
    default: return false;
  }
}

namespace {

// A request kind, or auth request kind, this member does not know.
std::optional<WireError> unknown_kind(wire::Request::Reader root) {
  const auto which = static_cast<uint16_t>(root.which());
  if (which > static_cast<uint16_t>(wire::Request::LEASE_GRANT_BATCH)) {
    return wire_error(wire::ErrorCode::UNKNOWN_REQUEST, "unknown request kind " + std::to_string(which));
  }
  if (root.isAuth()) {
    const auto kind = static_cast<uint16_t>(root.getAuth().which());
    if (kind > static_cast<uint16_t>(wire::AuthRequest::AUTH_STATUS)) {
      return wire_error(wire::ErrorCode::UNKNOWN_REQUEST, "unknown auth request kind " + std::to_string(kind));
    }
  }
  return std::nullopt;
}

// A txn, keep-alive batch or grant batch past its bounds.
std::optional<WireError> bound_refusal(wire::Request::Reader root) {
  if (root.isTxn()) {
    size_t ops = 0;
    if (!txn_within_bounds(root.getTxn(), 1, ops)) {
      return wire_error(wire::ErrorCode::TOO_LARGE, "txn past " + std::to_string(kMaxTxnOpsPerRequest) +
                                                         " ops or " + std::to_string(kMaxTxnDepth) + " levels");
    }
  }
  if (root.isLeaseKeepAliveBatch() && root.getLeaseKeepAliveBatch().getIds().size() > kMaxKeepAliveBatchIds) {
    return wire_error(wire::ErrorCode::TOO_LARGE,
                      "keep-alive batch of " + std::to_string(root.getLeaseKeepAliveBatch().getIds().size()) +
                          " ids is past the " + std::to_string(kMaxKeepAliveBatchIds) + "-id bound");
  }
  if (root.isLeaseGrantBatch()) return grant_batch_refusal(root.getLeaseGrantBatch());
  return std::nullopt;
}

}  // namespace

ParseOutcome parse_request(std::string_view bytes, size_t max_request_bytes) {
  ParseOutcome out;
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    out.error = wire_error(wire::ErrorCode::MALFORMED,
                           "request is not a flat Cap'n Proto message (length " +
                               std::to_string(bytes.size()) + ")");
    return out;
  }
  std::unique_ptr<ParsedRequest> req(new ParsedRequest());
  // Copy into word-aligned memory: ZeroMQ frames carry no alignment promise.
  req->words_ = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(req->words_.begin(), bytes.data(), bytes.size());
  capnp::ReaderOptions options;
  options.traversalLimitInWords = bytes.size() * kTraversalWordsPerByte + 64;
  options.nestingLimit = kNestingLimit;
  try {
    req->reader_ = std::make_unique<capnp::FlatArrayMessageReader>(req->words_.asPtr(), options);
    req->root_ = req->reader_->getRoot<wire::Request>();
    out.id = req->root_.getId();
    if (bytes.size() > max_request_bytes) {
      // Checked after reading the id, so that the client can match the answer.
      out.error = wire_error(wire::ErrorCode::TOO_LARGE,
                             "request of " + std::to_string(bytes.size()) + " bytes is past the " +
                                 std::to_string(max_request_bytes) + "-byte bound");
      return out;
    }
    if (auto unknown = unknown_kind(req->root_)) {
      out.error = std::move(*unknown);
      return out;
    }
    // Every pointer once, those of fields this member does not know too
    // (a copy of the request, as raise_grant_ttl makes, follows them all)...
    (void)req->root_.totalSize();
    // ...and every field once by its declared type: a pointer of the wrong
    // kind throws here, not at a later read (a txn whose compare list was a
    // struct once threw out of txn_within_bounds and ended the member).
    // Range and put through their getters, the rest through the schema.
    if (!read_fields_typed(req->root_)) read_every_field(capnp::toDynamic(req->root_));
    if (auto refused = bound_refusal(req->root_)) {
      out.error = std::move(*refused);
      return out;
    }
    // The tree is now known to be well typed and within the traversal
    // bound; later reads (the member reads a request several times) get a
    // fresh budget, so that pointer aliasing cannot make the third read throw.
    options.traversalLimitInWords = kj::maxValue;
    req->reader_ = std::make_unique<capnp::FlatArrayMessageReader>(req->words_.asPtr(), options);
    req->root_ = req->reader_->getRoot<wire::Request>();
  } catch (const kj::Exception& e) {
    out.error = wire_error(wire::ErrorCode::MALFORMED,
                           std::string("request could not be decoded: ") + e.getDescription().cStr());
    return out;
  }
  req->class_ = classify(req->root_);
  out.request = std::move(req);
  return out;
}

namespace {

// Writes in a txn, nested ones included, counted up to `enough`.
size_t txn_write_count(wire::TxnRequest::Reader r, size_t enough) {
  size_t writes = 0;
  for (auto list : {r.getSuccess(), r.getFailure()}) {
    for (auto op : list) {
      if (writes >= enough) return writes;
      if (op.isPut() || op.isDeleteRange()) ++writes;
      if (op.isTxn()) writes += txn_write_count(op.getTxn(), enough - writes);
    }
  }
  return writes;
}

}  // namespace

std::optional<WireError> check_before_proposing(const ParsedRequest& request) {
  if (!request.get().isTxn()) return std::nullopt;
  auto txn = request.get().getTxn();
  // One write cannot collide with another: skip the conversion.
  if (txn_write_count(txn, 2) < 2) return std::nullopt;
  if (Status st = kv::check_txn_duplicates(to_txn(txn)); !st.ok()) return to_wire_error(st.error());
  return std::nullopt;
}

namespace {

uint64_t little_endian(std::string_view bytes, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return v;
}

// More segments than this in a request is not a message our clients make.
constexpr uint64_t kMaxPeekedSegments = 512;

}  // namespace

// A flat message: a u32 segment count minus one, a u32 size in words per
// segment, padding to a word, then segment 0, which starts with the root
// pointer. A struct pointer has 0 in its low two bits, a signed word offset
// (from the end of the pointer) in bits 2..31 and its data words in 32..47.
// Request.id is the root's first data word.
uint64_t peek_request_id(std::string_view head) {
  constexpr size_t kWord = sizeof(capnp::word);
  if (head.size() < kWord) return 0;
  const uint64_t segments = little_endian(head, 0, 4) + 1;
  if (segments > kMaxPeekedSegments) return 0;
  const size_t table = (4 + 4 * segments + kWord - 1) / kWord * kWord;
  if (table + kWord > head.size()) return 0;
  const uint64_t segment0_end = table + little_endian(head, 4, 4) * kWord;
  const uint64_t pointer = little_endian(head, table, kWord);
  if ((pointer & 3) != 0) return 0;
  const int64_t offset = static_cast<int32_t>(static_cast<uint32_t>(pointer)) >> 2;
  const uint64_t data_words = (pointer >> 32) & 0xffff;
  if (data_words == 0) return 0;
  const int64_t at = static_cast<int64_t>(table + kWord) + offset * static_cast<int64_t>(kWord);
  if (at < static_cast<int64_t>(table + kWord) || static_cast<uint64_t>(at) + kWord > segment0_end ||
      static_cast<uint64_t>(at) + kWord > head.size()) {
    return 0;
  }
  return little_endian(head, static_cast<size_t>(at), kWord);
}

kv::RangeRequest to_range(wire::RangeRequest::Reader r) {
  kv::RangeRequest out;
  out.key = as_string(r.getKey());
  out.range_end = as_string(r.getRangeEnd());
  out.options.revision = r.getRevision();
  out.options.limit = r.getLimit();
  out.options.count_only = r.getCountOnly();
  out.options.keys_only = r.getKeysOnly();
  return out;
}

kv::PutRequest to_put(wire::PutRequest::Reader r) {
  kv::PutRequest out;
  out.key = as_string(r.getKey());
  out.value = as_string(r.getValue());
  out.lease = r.getLease();
  out.options.prev_kv = r.getPrevKv();
  out.options.ignore_value = r.getIgnoreValue();
  out.options.ignore_lease = r.getIgnoreLease();
  return out;
}

kv::DeleteRequest to_delete(wire::DeleteRangeRequest::Reader r) {
  kv::DeleteRequest out;
  out.key = as_string(r.getKey());
  out.range_end = as_string(r.getRangeEnd());
  out.prev_kv = r.getPrevKv();
  return out;
}

namespace {

kv::Compare to_compare(wire::Compare::Reader c) {
  kv::Compare out;
  out.key = as_string(c.getKey());
  out.range_end = as_string(c.getRangeEnd());
  switch (c.getTarget()) {
    case wire::Compare::Target::VERSION: out.target = kv::Compare::Target::kVersion; break;
    case wire::Compare::Target::CREATE: out.target = kv::Compare::Target::kCreateRevision; break;
    case wire::Compare::Target::MOD: out.target = kv::Compare::Target::kModRevision; break;
    case wire::Compare::Target::VALUE: out.target = kv::Compare::Target::kValue; break;
    case wire::Compare::Target::LEASE: out.target = kv::Compare::Target::kLease; break;
  }
  switch (c.getResult()) {
    case wire::Compare::Result::EQUAL: out.op = kv::Compare::Op::kEqual; break;
    case wire::Compare::Result::GREATER: out.op = kv::Compare::Op::kGreater; break;
    case wire::Compare::Result::LESS: out.op = kv::Compare::Op::kLess; break;
    case wire::Compare::Result::NOT_EQUAL: out.op = kv::Compare::Op::kNotEqual; break;
  }
  // The union member that is set wins; a target/union mismatch compares the
  // union's number against the target, as etcd reads the oneof.
  switch (c.which()) {
    case wire::Compare::VERSION: out.number = c.getVersion(); break;
    case wire::Compare::CREATE_REVISION: out.number = c.getCreateRevision(); break;
    case wire::Compare::MOD_REVISION: out.number = c.getModRevision(); break;
    case wire::Compare::VALUE: out.value = as_string(c.getValue()); break;
    case wire::Compare::LEASE: out.number = c.getLease(); break;
  }
  return out;
}

std::vector<kv::RequestOp> to_ops(capnp::List<wire::RequestOp>::Reader ops) {
  std::vector<kv::RequestOp> out;
  out.reserve(ops.size());
  for (auto op : ops) {
    switch (op.which()) {
      case wire::RequestOp::RANGE: out.emplace_back(to_range(op.getRange())); break;
      case wire::RequestOp::PUT: out.emplace_back(to_put(op.getPut())); break;
      case wire::RequestOp::DELETE_RANGE: out.emplace_back(to_delete(op.getDeleteRange())); break;
      case wire::RequestOp::TXN:
        out.emplace_back(std::make_shared<const kv::TxnRequest>(to_txn(op.getTxn())));
        break;
      default:
        // An op kind from a newer client: an empty txn would hide it, so
        // make it a range that kv rejects (empty key) with a clear error.
        out.emplace_back(kv::RangeRequest{});
        break;
    }
  }
  return out;
}

}  // namespace

kv::TxnRequest to_txn(wire::TxnRequest::Reader r) {
  kv::TxnRequest out;
  for (auto c : r.getCompare()) out.compare.push_back(to_compare(c));
  out.success = to_ops(r.getSuccess());
  out.failure = to_ops(r.getFailure());
  return out;
}

bool txn_writes(wire::TxnRequest::Reader r) {
  for (auto list : {r.getSuccess(), r.getFailure()}) {
    for (auto op : list) {
      if (op.isPut() || op.isDeleteRange()) return true;
      if (op.isTxn() && txn_writes(op.getTxn())) return true;
    }
  }
  return false;
}

}  // namespace corral::api
