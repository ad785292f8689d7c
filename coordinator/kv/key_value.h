// The values the MVCC key space hands out: a key at one revision, and the
// change events that watches deliver (etcd v3 semantics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace corral::kv {

using Revision = int64_t;  // one global, monotonically increasing revision; 0 = none
using LeaseId = int64_t;   // 0 = no lease

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;  // revision of the put that created this generation of the key
  Revision mod_revision = 0;     // revision of the last change
  int64_t version = 0;           // puts since creation (1 on create; a delete resets to 0)
  LeaseId lease = 0;

  bool operator==(const KeyValue&) const = default;
};

struct Event {
  enum class Type : uint8_t { kPut = 0, kDelete = 1 };
  Type type = Type::kPut;
  // For kDelete: key and mod_revision (the delete's revision) are set.
  KeyValue kv;
  std::optional<KeyValue> prev_kv;  // filled when the store still has it

  bool operator==(const Event&) const = default;
};

// All events of one revision, in the order the operations ran.
struct RevisionEvents {
  Revision revision = 0;
  std::vector<Event> events;
};

}  // namespace corral::kv
