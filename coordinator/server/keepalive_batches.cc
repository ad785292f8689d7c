#include "coordinator/server/keepalive_batches.h"

namespace corral::server {

uint64_t KeepAliveBatches::open(net::ConnectionId connection, uint64_t request_id,
                                const std::vector<lease::LeaseId>& ids) {
  const uint64_t handle = next_++;
  Open o;
  o.answer.connection = std::move(connection);
  o.answer.request_id = request_id;
  o.answer.outcomes.reserve(ids.size());
  for (lease::LeaseId id : ids) o.answer.outcomes.push_back(KeepAliveOutcome{id, 0, wire::ErrorCode::OK});
  o.done.assign(ids.size(), false);
  o.remaining = ids.size();
  open_.emplace(handle, std::move(o));
  return handle;
}

std::optional<FinishedKeepAliveBatch> KeepAliveBatches::record(uint64_t batch, uint32_t index,
                                                                int64_t ttl_seconds, const api::WireError* error) {
  auto it = open_.find(batch);
  if (it == open_.end() || index >= it->second.done.size() || it->second.done[index]) return std::nullopt;
  Open& o = it->second;
  o.done[index] = true;
  o.answer.outcomes[index].ttl_seconds = error == nullptr ? ttl_seconds : 0;
  o.answer.outcomes[index].error = error == nullptr ? wire::ErrorCode::OK : error->code;
  const bool retryable =
      error != nullptr && (error->code == wire::ErrorCode::NOT_LEADER || error->code == wire::ErrorCode::UNAVAILABLE);
  if (!retryable) {
    o.only_retryable_failures = false;
  } else if (!o.answer.whole_error) {
    o.answer.whole_error = *error;
  }
  if (--o.remaining > 0) return std::nullopt;
  if (!o.only_retryable_failures) o.answer.whole_error.reset();
  FinishedKeepAliveBatch out = std::move(o.answer);
  open_.erase(it);
  return out;
}

}  // namespace corral::server
