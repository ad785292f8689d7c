#include "coordinator/server/backend_quota.h"

namespace corral::server {

namespace {
constexpr storage::Space kBackendSpaces[] = {storage::Space::kKv, storage::Space::kKvMeta,
                                             storage::Space::kLease};
}  // namespace

Result<int64_t> backend_bytes(const storage::Engine& engine) {
  int64_t total = 0;
  for (storage::Space space : kBackendSpaces) {
    auto bytes = engine.space_bytes(space);
    if (!bytes.ok()) return bytes.error();
    total += *bytes;
  }
  return total;
}

corral::Status defragment_backend(storage::Engine& engine) {
  for (storage::Space space : kBackendSpaces) {
    if (corral::Status s = engine.compact_space(space); !s.ok()) return s;
  }
  return {};
}

}  // namespace corral::server
