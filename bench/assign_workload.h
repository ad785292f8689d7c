// corral-bench --workload assign: the assignment engine at scale, through a
// real cluster. N streams over M collectors are registered (as agents do:
// a lease with its keys, one request per source of 100 streams), then a
// collector dies (its lease is revoked) and a new one joins. Printed as one
// JSON line with the common fields (ops = streams registered, seconds =
// registration time, p50/p99 = reassignment latency) and:
//   streams, collectors, register_seconds,
//   reassign_p50_ms, reassign_p99_ms, reassign_max_ms: from the revoke of the
//     dead collector's lease to each of its tasks seen, by a watch, at its
//     new owner;
//   revoke_ms: the revoke's own latency (its apply moves every task);
//   moved, min_moved: tasks that changed owner when the collector died, and
//     the fewest possible (the tasks it held);
//   join_moved, join_min_moved: tasks marked to move to the new collector,
//     and its floor share;
//   max_load, load_bound: the most loaded collector's load (after the join)
//     and its bound (capacity 1 each: ceil(N / M * 1.25)).
#pragma once

#include <memory>
#include <vector>

#include "client/client.h"

namespace corral::bench {

struct AssignFlags {
  int streams = 100'000;
  int collectors = 1'000;
  int64_t ttl_seconds = 60;
};

// Returns the process exit code.
int assign_workload(const AssignFlags& flags, std::vector<std::unique_ptr<client::Client>>& clients);

}  // namespace corral::bench
