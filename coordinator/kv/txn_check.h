// Validation of write requests before they touch anything: sizes against
// limits.h, well-formed keys and ranges, txn shape (ops per list, nesting).
#pragma once

#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/kv/requests.h"

namespace corral::kv {

Status check_put(std::string_view key, std::string_view value, LeaseId lease, const PutOptions& options);
Status check_txn_request(const TxnRequest& request);

}  // namespace corral::kv
