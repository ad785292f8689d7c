// What the key index keeps of one key: its generations of revisions (etcd's
// keyIndex). A generation is one life of a key: the puts from its creation
// up to the delete (tombstone) that ended it. A key deleted and put again
// has two.
#pragma once

#include <optional>

#include <absl/container/inlined_vector.h>

#include "coordinator/kv/key_value.h"
#include "coordinator/kv/revision_key.h"

namespace corral::kv {

// Most keys have one generation, and most generations that a compaction
// has trimmed hold one put: both are kept inline (no allocation), which
// saves two of a new key's four allocations.
struct Generation {
  Revision created = 0;                   // create_revision of every put in it
  int64_t version = 0;                    // version of puts.back()
  absl::InlinedVector<Rev, 1> puts;       // ascending, never empty; compaction trims the front
  std::optional<Rev> tombstone;           // the delete that ended it; only the last generation is open
};

struct KeyHistory {
  absl::InlinedVector<Generation, 1> generations;  // ascending, never empty
};

}  // namespace corral::kv
