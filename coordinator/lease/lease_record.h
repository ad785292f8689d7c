// The stored form of a lease, in storage::Space::kLease.
//
//   key:   lease id, 8 bytes big-endian (ids are positive, so keys sort by id)
//   value: schema/records.capnp LeaseRecord, one flat message
//
// Attached keys are not stored here: they are rebuilt at start-up from the
// MVCC index (every key records its lease). The remaining time of the last
// checkpoint is stored (lessor.h), so it survives restarts and snapshots.
#pragma once

#include <string>
#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/lease/lease_types.h"

namespace corral::lease {

inline constexpr size_t kLeaseKeyBytes = 8;

struct LeaseRecord {
  LeaseId id = 0;
  int64_t ttl_seconds = 0;
  Millis remaining_ms = 0;  // last checkpoint; 0: none since the last renewal
  bool operator==(const LeaseRecord&) const = default;
};

std::string encode_lease_key(LeaseId id);
std::string encode_lease_value(const LeaseRecord& record);
// kStorage on any malformed key or value.
Result<LeaseRecord> decode_lease_record(std::string_view key, std::string_view value);

}  // namespace corral::lease
