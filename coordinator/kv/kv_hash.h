// etcd's HashKV: a fingerprint of the key space's MVCC history up to a
// revision, to tell whether members that should hold the same history do.
// Every stored revision record (space kKv: its revision key and its
// encoded key-value) with a main revision of at most `revision` goes into
// a SHA-256, in revision order, each length-prefixed; the hash is its first
// 8 bytes. Members apply the same entries and compact at the same
// revisions, so members that agree give the same hash at the same revision.
#pragma once

#include <cstdint>

#include "coordinator/base/error.h"
#include "coordinator/kv/key_value.h"
#include "coordinator/storage/engine.h"

namespace corral::kv {

struct KvHash {
  uint64_t hash = 0;
  Revision hash_revision = 0;     // the revision hashed up to
  Revision compact_revision = 0;  // history below it is gone (not in the hash)
};

// `revision` 0: `current`. kCompacted (below `compact`), kFutureRevision
// (past `current`), or a storage error of the scan. The caller passes the
// revisions of a store whose every write is on the engine.
Result<KvHash> hash_kv(const storage::Engine& engine, Revision revision, Revision current, Revision compact);
// The same over a point-in-time view (e.g. on another thread than the
// writer's): `current` and `compact` are the store's as of the view.
Result<KvHash> hash_kv(const storage::ReadView& view, Revision revision, Revision current, Revision compact);

}  // namespace corral::kv
