// Requests and results of the MVCC key space (etcd v3 shapes): range, put,
// delete range, and txn (compare, then/else, nested txns).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "coordinator/kv/key_index.h"
#include "coordinator/kv/key_value.h"

namespace corral::kv {

struct RangeOptions {
  Revision revision = 0;   // 0 = current
  int64_t limit = 0;       // 0 = no limit
  bool count_only = false;
  bool keys_only = false;  // values left empty
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key
  int64_t count = 0;          // every match, ignoring limit
  bool more = false;          // limit cut the answer
  Revision revision = 0;      // the store's revision when answered
};

struct PutOptions {
  bool prev_kv = false;
  bool ignore_value = false;  // keep the current value (the key must exist; value must be empty)
  bool ignore_lease = false;  // keep the current lease (the key must exist; lease must be 0)
};

struct PutResult {
  std::optional<KeyValue> prev_kv;  // only when asked for and the key existed
  Revision revision = 0;
};

struct DeleteResult {
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;  // only when asked for
  Revision revision = 0;
};

struct ListResult {
  std::vector<DirEntry> entries;  // sorted by name
  Revision revision = 0;
};

// A condition on every key of [key, range_end) (etcd conventions, see
// key_range.h). On no key at all: a kValue compare fails, the others compare
// against 0 (version, revisions and lease of a missing key).
struct Compare {
  enum class Target : uint8_t { kValue, kVersion, kCreateRevision, kModRevision, kLease };
  enum class Op : uint8_t { kEqual, kNotEqual, kLess, kGreater };
  std::string key;
  std::string range_end;
  Target target = Target::kValue;
  Op op = Op::kEqual;
  std::string value;   // for kValue
  int64_t number = 0;  // for the other targets
};

struct TxnRequest;

struct RangeRequest {
  std::string key;
  std::string range_end;
  RangeOptions options;
};
struct PutRequest {
  std::string key;
  std::string value;
  LeaseId lease = 0;
  PutOptions options;
};
struct DeleteRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};
using RequestOp =
    std::variant<RangeRequest, PutRequest, DeleteRequest, std::shared_ptr<const TxnRequest>>;

// If every compare holds, run `success`, else `failure`, in order; later ops
// see the writes of earlier ones. All of it happens at one revision, or not
// at all.
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct TxnResult;
using ResponseOp =
    std::variant<RangeResult, PutResult, DeleteResult, std::shared_ptr<const TxnResult>>;

struct TxnResult {
  bool succeeded = false;
  std::vector<ResponseOp> responses;  // one per op of the branch that ran
  Revision revision = 0;              // the txn's revision if it wrote, else the current one
};

}  // namespace corral::kv
