// Bounds on every input of the MVCC key space. Past a bound the answer is a
// typed error (kTooLarge or kBadRequest) and nothing changes.
#pragma once

#include <cstddef>

namespace corral::kv {

inline constexpr size_t kMaxKeyBytes = 4 * 1024;                // key and range_end
inline constexpr size_t kMaxValueBytes = 1536 * 1024;           // 1.5 MiB, as etcd's request limit
inline constexpr size_t kMaxTxnOps = 128;                       // per compare / then / else list, as etcd
inline constexpr size_t kMaxTxnDepth = 4;                       // nested txn levels, the outer one included
inline constexpr size_t kMaxTxnTreeOps = 1024;                  // ops summed over every nested level
inline constexpr size_t kMaxHistoryEventsPerRead = 64 * 1024;   // events() max_events ceiling

}  // namespace corral::kv
