#include "coordinator/net/reply_budget.h"

namespace corral::net {

ServeVerdict serve_verdict(const ReplyBudget& budget, int64_t connection_unsent,
                           int64_t total_unsent) {
  if (connection_unsent >= budget.max_unsent_bytes_per_connection) {
    return ServeVerdict::kConnectionFull;
  }
  if (total_unsent >= budget.max_unsent_bytes_total &&
      connection_unsent >= budget.max_unsent_bytes_when_crowded) {
    return ServeVerdict::kMemberFull;
  }
  return ServeVerdict::kServe;
}

}  // namespace corral::net
