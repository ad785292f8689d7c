// Client::lease_grant_batch: many registrations in one request, and the
// fallback to single grants for a member that predates batches.
#include <condition_variable>
#include <mutex>

#include "client/client.h"

namespace corral::client {

namespace {

// One LeaseGrantRequest per grant, all in flight at once (the client's
// max_in_flight bounds them: this runs on the caller's thread, which may
// block for a slot), outcomes in the order asked.
Result<LeaseGrantBatchResult> grant_one_by_one(Client& client, const std::vector<LeaseGrantRequest>& grants,
                                               CallOptions options) {
  LeaseGrantBatchResult out;
  out.outcomes.resize(grants.size());
  std::mutex mu;
  std::condition_variable cv;
  size_t open = grants.size();
  for (size_t i = 0; i < grants.size(); ++i) {
    client.call_async(grants[i], options, [&, i](Result<LeaseGrantResult> r) {
      LeaseGrantOutcome o;
      if (r.ok()) {
        o = LeaseGrantOutcome{r->id, r->ttl_seconds, ErrorCode::kOk, {}};
      } else {
        o = LeaseGrantOutcome{grants[i].id, 0, r.error().code, r.error().message};
      }
      std::lock_guard lock(mu);
      out.outcomes[i] = std::move(o);
      if (r.ok() && out.header.revision < r->header.revision) out.header = r->header;
      if (--open == 0) cv.notify_all();
    });
  }
  // Every call ends by its deadline (or the client's close), so this wait does.
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return open == 0; });
  return out;
}

}  // namespace

Result<LeaseGrantBatchResult> Client::lease_grant_batch(std::vector<LeaseGrantRequest> grants, CallOptions options) {
  if (grants.empty()) return LeaseGrantBatchResult{};
  auto batched = call(LeaseGrantBatchRequest{grants}, options);
  if (batched.ok() || batched.error().code != ErrorCode::kUnknownRequest) return batched;
  return grant_one_by_one(*this, grants, options);
}

}  // namespace corral::client
