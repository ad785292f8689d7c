// The member's thread for HashKV (maintenance.h): the hash scans the whole
// key-space history kept, seconds for millions of revisions, so it runs over
// a point-in-time view (a RocksDB snapshot taken on the loop) on a thread of
// its own; the node loop goes on serving and heartbeating meanwhile, and
// answers each hash on the turn after the worker woke it (take_done).
//
// Bounded: at most kMaxHashJobs jobs wait, run or wait to be answered (each
// pins a view of the database); past it, submit() refuses and the caller
// answers unavailable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "coordinator/base/result.h"
#include "coordinator/kv/kv_hash.h"
#include "coordinator/net/client_listener.h"
#include "coordinator/server/job_worker.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

inline constexpr size_t kMaxHashJobs = 4;

struct HashJob {
  net::ConnectionId connection;
  uint64_t request_id = 0;
  kv::Revision revision = 0;  // 0: current
  kv::Revision current = 0;   // the store's revisions as of the view
  kv::Revision compact = 0;
  std::unique_ptr<storage::ReadView> view;  // released once hashed
  Result<kv::KvHash> hash = kv::KvHash{};   // the worker's answer
};

class KvHasher {
 public:
  // `wake` is called from the worker thread when a hash is ready.
  explicit KvHasher(std::function<void()> wake);

  // False: kMaxHashJobs are in hand; nothing was taken.
  bool submit(HashJob job) { return jobs_.submit(std::move(job)); }
  std::vector<HashJob> take_done() { return jobs_.take_done(); }

 private:
  JobWorker<HashJob> jobs_;  // finishes the hash in hand, drops the rest
};

}  // namespace corral::server
