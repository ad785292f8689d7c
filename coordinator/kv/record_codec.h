// Conversion between kv:: structs and their stored form (schema/records.capnp:
// one flat Cap'n Proto message per value).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/kv/key_value.h"

namespace corral::kv {

// The value under key kKvStateKey of space kKvMeta (KvStateRecord).
struct KvState {
  uint64_t applied_index = 0;
  Revision current_revision = 0;
  Revision compact_revision = 0;
  bool operator==(const KvState&) const = default;
};
inline constexpr std::string_view kKvStateKey = "kv_state";

std::string encode_key_value(const KeyValue& kv);
// kStorage when the bytes are not a KeyValueRecord.
Result<KeyValue> decode_key_value(std::string_view bytes);

std::string encode_kv_state(const KvState& state);
Result<KvState> decode_kv_state(std::string_view bytes);

}  // namespace corral::kv
