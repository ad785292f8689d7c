// The file `snapshot save` writes: the member's state image exactly as it
// streamed it (coordinator/server/state_image.h), then a trailer of
// kSnapshotTrailerMagic and the SHA-256 of the image, so that `snapshot
// status` and `snapshot restore` refuse a truncated or altered file instead
// of restoring part of a cluster (etcd appends a SHA-256 the same way).
#pragma once

#include <cstddef>
#include <string_view>

namespace corral::schema {

inline constexpr std::string_view kSnapshotTrailerMagic = "CRLSHA01";
inline constexpr size_t kSnapshotDigestBytes = 32;  // SHA-256
inline constexpr size_t kSnapshotTrailerBytes = kSnapshotTrailerMagic.size() + kSnapshotDigestBytes;

}  // namespace corral::schema
