// Reading a file written by `snapshot save` (schema/snapshot_file.h): the
// image checked against its SHA-256 trailer, then parsed to the end mark,
// before anything is read from it. What `corralctl snapshot status` prints
// and `snapshot restore` writes into a new data dir come from here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/server/state_image.h"

namespace corral::server {

// Past this a file is refused before it is read (an image is bounded by
// kMaxImageBytes, state_machine.h).
inline constexpr uint64_t kMaxSnapshotFileBytes = (uint64_t{1} << 30) + 4096;

struct SnapshotFile {
  // The whole file; shared so that the views below stay valid however the
  // struct is moved.
  std::shared_ptr<const std::string> bytes;
  std::string_view image;             // into bytes: the state image
  std::vector<ImageRecord> records;   // into bytes
  std::string digest_hex;             // SHA-256 of the image, 64 hex digits
};

// kStorage when the file cannot be read; kBadRequest, naming the file and
// what is wrong, when it is not an intact snapshot (too short, no trailer,
// digest mismatch, broken image).
Result<SnapshotFile> read_snapshot_file(const std::string& path);
// The same checks on bytes already in memory (`name` for the errors).
Result<SnapshotFile> parse_snapshot_file(std::string bytes, const std::string& name);

struct SnapshotSummary {
  std::string hash;            // the first 8 bytes of the digest, hex (a short name to compare)
  int64_t revision = 0;        // the key space's revision
  int64_t compact_revision = 0;
  uint64_t total_keys = 0;     // key-space records: every kept revision of every key, as etcd counts
  uint64_t live_keys = 0;      // keys that exist at `revision`
  uint64_t leases = 0;
  uint64_t size_bytes = 0;     // of the file
};
// kBadRequest when a record the summary reads does not decode.
Result<SnapshotSummary> summarize(const SnapshotFile& file);

}  // namespace corral::server
