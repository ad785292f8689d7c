// Validation of write requests before they touch anything: sizes against
// limits.h, well-formed keys and ranges, txn shape (ops per list, nesting);
// and whether a txn branch writes a key twice.
#pragma once

#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/kv/requests.h"

namespace corral::kv {

Status check_put(std::string_view key, std::string_view value, LeaseId lease, const PutOptions& options);
Status check_txn_request(const TxnRequest& request);
// kBadRequest if one branch (nested txns included) puts a key twice or puts
// a key it also deletes; a nested txn's then and else may both put a key.
// As in etcd, clients' txns are held to it before they are proposed (see
// api::check_before_proposing); the store itself runs such a txn in order.
Status check_txn_duplicates(const TxnRequest& request);

}  // namespace corral::kv
