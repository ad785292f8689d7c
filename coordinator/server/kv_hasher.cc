#include "coordinator/server/kv_hasher.h"

namespace corral::server {

KvHasher::KvHasher(std::function<void()> wake)
    : jobs_(
          [](HashJob& job) {
            job.hash = kv::hash_kv(*job.view, job.revision, job.current, job.compact);
            job.view.reset();  // the snapshot pins memtables and files: let them go now
          },
          std::move(wake), {kMaxHashJobs}) {}

}  // namespace corral::server
