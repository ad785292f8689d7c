// Which file is which, across renames, restarts, truncation and inode reuse.
//
// A file's identity is (device, inode) plus a fingerprint of its first bytes:
// FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3, over
// bytes) of the first `fingerprint_bytes` = min(size, kFingerprintBytes)
// bytes, taken when the source first sees the file. (device, inode) alone is
// not enough: a deleted file's inode is reused by the next file created, and
// a truncated-and-rewritten file keeps its inode; the fingerprint tells them
// apart.
//
// Short files: a file first seen with fewer than kFingerprintBytes bytes keeps
// the shorter fingerprint and its length for its whole life, so its id never
// changes as it grows. matches() re-checks that prefix (same device and inode,
// at least fingerprint_bytes bytes, same hash of that many first bytes). A
// source restarted later may fingerprint the same file over more bytes and
// give it a different id: it still accepts the old id through matches().
// Empty files have no identity yet (identify says kUnavailable): the tailer
// waits for their first byte.
//
// The file id (FileIdentity::id) is the text, at most 58 bytes:
//   <device hex>-<inode hex>-<fingerprint_bytes hex>-<fingerprint hash, 16 hex>
// e.g. "803-1c0a55-100-9f2c41aa07d3e115". It is opaque to collectors. The
// tailer may append ".<decimal>" to keep ids unique within a stream (a file
// truncated and rewritten with the same first bytes); parse() ignores it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/fetch/fetch_error.h"

namespace corral::agent::source {

using fetch::Result;

inline constexpr uint32_t kFingerprintBytes = 256;

uint64_t fnv1a64(std::string_view bytes);

struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint32_t fingerprint_bytes = 0;  // 1..kFingerprintBytes
  uint64_t fingerprint = 0;        // fnv1a64 of the first fingerprint_bytes bytes

  std::string id() const;
  // The identity an id names; nullopt for text that is not an id.
  static std::optional<FileIdentity> parse(std::string_view id);
  bool operator==(const FileIdentity&) const = default;
};

// The identity of the open file `fd` now. kUnavailable if it is empty or
// cannot be read; kBadRequest if it is not a regular file.
Result<FileIdentity> identify(int fd);

// Whether the open file `fd` is still the file `identity` names: same device
// and inode and the same first fingerprint_bytes bytes. kUnavailable on an
// I/O error.
Result<bool> matches(const FileIdentity& identity, int fd);

}  // namespace corral::agent::source
