// Batched keep-alives (LeaseKeepAliveBatchRequest) on their way through the
// leader. Each id of a batch travels through LeaseKeepAlives as its own
// WaitingKeepAlive that names its batch, so every stage, deadline and bound
// applies to it as to a single keep-alive; this table collects the ids'
// outcomes and hands the batch back once its last id has one, to be
// answered in one frame. Plain data; the node loop drives it.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "coordinator/api/errors.h"
#include "coordinator/lease/lease_types.h"
#include "coordinator/net/client_listener.h"

namespace corral::server {

namespace wire = corral::schema::api;

struct KeepAliveOutcome {
  lease::LeaseId lease = 0;
  int64_t ttl_seconds = 0;  // error == OK: remaining after the refresh
  wire::ErrorCode error = wire::ErrorCode::OK;
};

struct FinishedKeepAliveBatch {
  net::ConnectionId connection;
  uint64_t request_id = 0;
  std::vector<KeepAliveOutcome> outcomes;  // in the order asked
  // Set when no id was renewed and every id failed only because this member
  // could not serve the batch now (notLeader, unavailable): the batch is
  // answered with this error, so the client library redirects and retries
  // it at once, as a single keep-alive, instead of the keeper waiting out
  // its retry pause on a batch of per-id failures (with leaders changing
  // every few hundred ms, those pauses added up past the lease's TTL).
  std::optional<api::WireError> whole_error;
};

class KeepAliveBatches {
 public:
  // A batch for `ids`, every outcome still open; returns its handle (never
  // 0: 0 names a single keep-alive in WaitingKeepAlive).
  uint64_t open(net::ConnectionId connection, uint64_t request_id, const std::vector<lease::LeaseId>& ids);
  // The outcome of the id at `index`; the whole batch once it was the last
  // open one. Unknown handles, indexes past the batch and a second outcome
  // for one index are ignored (nullopt).
  // `error` null: renewed.
  std::optional<FinishedKeepAliveBatch> record(uint64_t batch, uint32_t index, int64_t ttl_seconds,
                                               const api::WireError* error);
  // Forgets a batch whose ids could not be queued.
  void drop(uint64_t batch) { open_.erase(batch); }
  size_t size() const { return open_.size(); }

 private:
  struct Open {
    FinishedKeepAliveBatch answer;
    std::vector<bool> done;
    size_t remaining = 0;
    bool only_retryable_failures = true;  // no renewal, no per-lease error so far
  };
  std::unordered_map<uint64_t, Open> open_;
  uint64_t next_ = 1;
};

}  // namespace corral::server
