// Keys of space kKv: one per revision of the key space.
//
// Format (17 or 16 bytes):
//   bytes 0..7   main revision, uint64 big-endian
//   bytes 8..15  sub revision (position of the change inside its main
//                revision), uint64 big-endian
//   byte  16     present only for a delete: kTombstoneMarker
// Big-endian fixed width makes byte order equal numeric order, so a RocksDB
// scan from revision_key(r) visits changes in revision order. A (main, sub)
// pair is written once, so the optional marker never reorders two records.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/kv/key_value.h"

namespace corral::kv {

// A position in history: the main revision of a change and its index inside it.
struct Rev {
  Revision main = 0;
  int64_t sub = 0;
  auto operator<=>(const Rev&) const = default;
};

inline constexpr size_t kRevisionKeyBytes = 16;
inline constexpr char kTombstoneMarker = 't';

std::string revision_key(Rev rev, bool tombstone = false);
// Smallest key of main revision `main` (sub 0, no marker): a scan bound.
std::string revision_key_lower(Revision main);

struct DecodedRevisionKey {
  Rev rev;
  bool tombstone = false;
};
// Nullopt if `key` is not a well-formed revision key.
std::optional<DecodedRevisionKey> decode_revision_key(std::string_view key);

}  // namespace corral::kv
