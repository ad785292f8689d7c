// The state image: the replicated state of a member (spaces kKv, kKvMeta
// and kLease) as one byte string. A raft snapshot carries it to a lagging
// member, `snapshot save` streams it to a client, `snapshot restore` reads
// it back into a new data dir. Format:
//   "CRLIMG01" | { u8 space | u32 key length | key | u32 value length | value }* | u8 0xff
// (lengths little-endian).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

inline constexpr std::string_view kImageMagic = "CRLIMG01";
inline constexpr unsigned char kImageEnd = 0xff;
inline constexpr storage::Space kImageSpaces[] = {storage::Space::kKv, storage::Space::kKvMeta,
                                                  storage::Space::kLease};

// One record of an image; the views point into the image.
struct ImageRecord {
  storage::Space space;
  std::string_view key;
  std::string_view value;
};

void append_image_record(std::string& image, storage::Space space, std::string_view key, std::string_view value);
// Every record of a whole image, checked to the end mark; kBadRequest
// naming what is wrong (bad magic, truncated, unknown space, trailing bytes).
Result<std::vector<ImageRecord>> parse_state_image(std::string_view image);

}  // namespace corral::server
