#include "coordinator/kv/revision_key.h"

namespace corral::kv {
namespace {

void put_u64_be(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t get_u64_be(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace

std::string revision_key(Rev rev, bool tombstone) {
  std::string out;
  out.reserve(kRevisionKeyBytes + 1);
  put_u64_be(out, static_cast<uint64_t>(rev.main));
  put_u64_be(out, static_cast<uint64_t>(rev.sub));
  if (tombstone) out.push_back(kTombstoneMarker);
  return out;
}

std::string revision_key_lower(Revision main) { return revision_key(Rev{main, 0}); }

std::optional<DecodedRevisionKey> decode_revision_key(std::string_view key) {
  if (key.size() != kRevisionKeyBytes && key.size() != kRevisionKeyBytes + 1) return std::nullopt;
  bool tombstone = key.size() == kRevisionKeyBytes + 1;
  if (tombstone && key[kRevisionKeyBytes] != kTombstoneMarker) return std::nullopt;
  uint64_t main = get_u64_be(key.substr(0, 8));
  uint64_t sub = get_u64_be(key.substr(8, 8));
  // Revisions are non-negative int64; a larger value is not ours.
  if (main > static_cast<uint64_t>(INT64_MAX) || sub > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return DecodedRevisionKey{Rev{static_cast<Revision>(main), static_cast<int64_t>(sub)}, tombstone};
}

}  // namespace corral::kv
