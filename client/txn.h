// A builder for txn requests: compares, then the ops run when every compare
// holds, else the others. Mirrors etcd's Txn().If().Then().Else():
//
//   TxnRequest t = Txn()
//       .when(compare_mod_revision("/lock", Compare::Op::kEqual, 0))
//       .then(op_put("/lock", "me", lease))
//       .otherwise(op_get("/lock"))
//       .build();
#pragma once

#include <cstdint>
#include <string>

#include "client/types.h"

namespace corral::client {

Compare compare_version(std::string key, Compare::Op op, int64_t version);
Compare compare_create_revision(std::string key, Compare::Op op, int64_t revision);
Compare compare_mod_revision(std::string key, Compare::Op op, int64_t revision);
Compare compare_value(std::string key, Compare::Op op, std::string value);
Compare compare_lease(std::string key, Compare::Op op, int64_t lease);

TxnOp op_get(std::string key, RangeRequest options = {});
TxnOp op_put(std::string key, std::string value, int64_t lease = 0);
TxnOp op_put(PutRequest put);
TxnOp op_delete(std::string key, std::string range_end = {});
TxnOp op_txn(TxnRequest txn);

class Txn {
 public:
  Txn& when(Compare compare);
  Txn& then(TxnOp op);
  Txn& otherwise(TxnOp op);
  TxnRequest build() const { return request_; }

 private:
  TxnRequest request_;
};

}  // namespace corral::client
