#include "client/txn.h"

#include <utility>
#include <vector>

namespace corral::client {

namespace {
Compare make_compare(Compare::Target target, std::string key, Compare::Op op, int64_t number) {
  Compare c;
  c.target = target;
  c.op = op;
  c.key = std::move(key);
  c.number = number;
  return c;
}
}  // namespace

Compare compare_version(std::string key, Compare::Op op, int64_t version) {
  return make_compare(Compare::Target::kVersion, std::move(key), op, version);
}
Compare compare_create_revision(std::string key, Compare::Op op, int64_t revision) {
  return make_compare(Compare::Target::kCreate, std::move(key), op, revision);
}
Compare compare_mod_revision(std::string key, Compare::Op op, int64_t revision) {
  return make_compare(Compare::Target::kMod, std::move(key), op, revision);
}
Compare compare_value(std::string key, Compare::Op op, std::string value) {
  Compare c = make_compare(Compare::Target::kValue, std::move(key), op, 0);
  c.value = std::move(value);
  return c;
}
Compare compare_lease(std::string key, Compare::Op op, int64_t lease) {
  return make_compare(Compare::Target::kLease, std::move(key), op, lease);
}

TxnOp op_get(std::string key, RangeRequest options) {
  options.key = std::move(key);
  return TxnOp{std::move(options)};
}
TxnOp op_put(std::string key, std::string value, int64_t lease) {
  PutRequest p;
  p.key = std::move(key);
  p.value = std::move(value);
  p.lease = lease;
  return TxnOp{std::move(p)};
}
TxnOp op_put(PutRequest put) { return TxnOp{std::move(put)}; }
TxnOp op_delete(std::string key, std::string range_end) {
  DeleteRequest d;
  d.key = std::move(key);
  d.range_end = std::move(range_end);
  return TxnOp{std::move(d)};
}
TxnOp op_txn(TxnRequest txn) { return TxnOp{std::vector<TxnRequest>{std::move(txn)}}; }

Txn& Txn::when(Compare compare) {
  request_.compare.push_back(std::move(compare));
  return *this;
}
Txn& Txn::then(TxnOp op) {
  request_.success.push_back(std::move(op));
  return *this;
}
Txn& Txn::otherwise(TxnOp op) {
  request_.failure.push_back(std::move(op));
  return *this;
}

}  // namespace corral::client
