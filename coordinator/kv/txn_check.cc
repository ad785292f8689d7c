#include "coordinator/kv/txn_check.h"

#include <set>
#include <string>
#include <vector>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/limits.h"

namespace corral::kv {
namespace {

Status check_list_size(size_t n, const char* what) {
  if (n > kMaxTxnOps) {
    return make_error(ErrorCode::kTooLarge, std::string("txn has ") + std::to_string(n) + " " + what +
                                                ", the limit is " + std::to_string(kMaxTxnOps));
  }
  return {};
}

Status check_range(std::string_view key, std::string_view range_end) {
  auto r = KeyRange::make(key, range_end);
  if (!r.ok()) return r.error();
  return {};
}

Status check_txn(const TxnRequest& request, size_t depth, size_t& tree_ops);

Status check_op(const RequestOp& op, size_t depth, size_t& tree_ops) {
  if (auto* r = std::get_if<RangeRequest>(&op)) {
    if (r->options.limit < 0) return make_error(ErrorCode::kBadRequest, "range limit is negative");
    if (r->options.revision < 0) return make_error(ErrorCode::kBadRequest, "range revision is negative");
    return check_range(r->key, r->range_end);
  }
  if (auto* p = std::get_if<PutRequest>(&op)) return check_put(p->key, p->value, p->lease, p->options);
  if (auto* d = std::get_if<DeleteRequest>(&op)) return check_range(d->key, d->range_end);
  const auto& nested = std::get<std::shared_ptr<const TxnRequest>>(op);
  if (!nested) return make_error(ErrorCode::kBadRequest, "nested txn is missing");
  return check_txn(*nested, depth + 1, tree_ops);
}

Status check_txn(const TxnRequest& request, size_t depth, size_t& tree_ops) {
  if (depth > kMaxTxnDepth) {
    return make_error(ErrorCode::kTooLarge,
                      "txn nests deeper than " + std::to_string(kMaxTxnDepth) + " levels");
  }
  if (auto st = check_list_size(request.compare.size(), "compares"); !st.ok()) return st;
  if (auto st = check_list_size(request.success.size(), "success ops"); !st.ok()) return st;
  if (auto st = check_list_size(request.failure.size(), "failure ops"); !st.ok()) return st;
  tree_ops += request.compare.size() + request.success.size() + request.failure.size();
  if (tree_ops > kMaxTxnTreeOps) {
    return make_error(ErrorCode::kTooLarge, "txn holds more than " + std::to_string(kMaxTxnTreeOps) +
                                                " compares and ops over all nested levels");
  }
  for (const Compare& c : request.compare) {
    if (auto st = check_range(c.key, c.range_end); !st.ok()) return st;
    if (c.value.size() > kMaxValueBytes) {
      return make_error(ErrorCode::kTooLarge, "compare value is larger than " +
                                                  std::to_string(kMaxValueBytes) + " bytes");
    }
  }
  for (const auto* ops : {&request.success, &request.failure}) {
    for (const RequestOp& op : *ops) {
      if (auto st = check_op(op, depth, tree_ops); !st.ok()) return st;
    }
  }
  return {};
}

// The keys one branch puts and the ranges it deletes, nested txns included.
struct BranchWrites {
  std::set<std::string, std::less<>> puts;
  std::vector<KeyRange> deletes;
};

constexpr size_t kMaxKeyBytesInMessage = 64;

Status duplicate_key(std::string_view key) {
  std::string shown(key.substr(0, kMaxKeyBytesInMessage));
  if (key.size() > kMaxKeyBytesInMessage) shown += "...";
  return make_error(ErrorCode::kBadRequest, "duplicate key given in txn request: " + shown);
}

bool deleted(const BranchWrites& w, std::string_view key) {
  for (const KeyRange& r : w.deletes) {
    if (r.contains(key)) return true;
  }
  return false;
}

// Adds one put to `w`: a key put twice, or put and deleted, in one branch is
// refused, as etcd does (the outcome would hang on op order within one
// revision). A nested txn's then and else branches exclude each other, so a
// key both put is fine (`also_allowed`).
Status add_put(BranchWrites& w, std::string_view key, const BranchWrites* also_allowed = nullptr) {
  const bool seen = w.puts.count(key) > 0 && !(also_allowed && also_allowed->puts.count(key) > 0);
  if (seen || deleted(w, key)) return duplicate_key(key);
  w.puts.emplace(key);
  return {};
}

// etcd's checkIntervals: this level's deletes, then nested txns, then this
// level's puts. Ranges are valid here (check_txn ran first).
Status collect_writes(const std::vector<RequestOp>& ops, BranchWrites& out) {
  for (const RequestOp& op : ops) {
    if (auto* d = std::get_if<DeleteRequest>(&op)) {
      auto r = KeyRange::make(d->key, d->range_end);
      if (!r.ok()) return r.error();
      out.deletes.push_back(std::move(r).value());
    }
  }
  for (const RequestOp& op : ops) {
    auto* nested = std::get_if<std::shared_ptr<const TxnRequest>>(&op);
    if (nested == nullptr || !*nested) continue;
    BranchWrites then_writes;
    BranchWrites else_writes;
    if (auto st = collect_writes((*nested)->success, then_writes); !st.ok()) return st;
    if (auto st = collect_writes((*nested)->failure, else_writes); !st.ok()) return st;
    for (const std::string& k : then_writes.puts) {
      if (auto st = add_put(out, k); !st.ok()) return st;
    }
    for (const std::string& k : else_writes.puts) {
      if (auto st = add_put(out, k, &then_writes); !st.ok()) return st;
    }
    for (auto* w : {&then_writes, &else_writes}) {
      out.deletes.insert(out.deletes.end(), w->deletes.begin(), w->deletes.end());
    }
  }
  for (const RequestOp& op : ops) {
    if (auto* p = std::get_if<PutRequest>(&op)) {
      if (auto st = add_put(out, p->key); !st.ok()) return st;
    }
  }
  return {};
}

}  // namespace

Status check_txn_duplicates(const TxnRequest& request) {
  for (const auto* branch : {&request.success, &request.failure}) {
    BranchWrites writes;
    if (auto st = collect_writes(*branch, writes); !st.ok()) return st;
  }
  return {};
}

Status check_put(std::string_view key, std::string_view value, LeaseId lease, const PutOptions& options) {
  if (auto st = validate_key(key); !st.ok()) return st;
  if (value.size() > kMaxValueBytes) {
    return make_error(ErrorCode::kTooLarge, "value is " + std::to_string(value.size()) +
                                                " bytes, the limit is " + std::to_string(kMaxValueBytes));
  }
  if (lease < 0) return make_error(ErrorCode::kBadRequest, "lease id is negative");
  if (options.ignore_value && !value.empty()) {
    return make_error(ErrorCode::kBadRequest, "put with ignore_value must carry no value");
  }
  if (options.ignore_lease && lease != 0) {
    return make_error(ErrorCode::kBadRequest, "put with ignore_lease must carry no lease");
  }
  return {};
}

Status check_txn_request(const TxnRequest& request) {
  size_t tree_ops = 0;
  return check_txn(request, 1, tree_ops);
}

}  // namespace corral::kv
