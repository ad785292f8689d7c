#include "coordinator/server/snapshot_file.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "coordinator/kv/record_codec.h"
#include "coordinator/kv/revision_key.h"
#include "schema/snapshot_file.h"

namespace corral::server {

namespace {

Error corrupt(const std::string& name, const std::string& why) {
  return make_error(ErrorCode::kBadRequest,
                    "snapshot file " + name + " is not an intact snapshot (" + why + "); nothing was restored from it");
}

std::string hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(digest), size);
}

}  // namespace

Result<SnapshotFile> read_snapshot_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return make_error(ErrorCode::kStorage, "cannot open " + path + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size < 0) return make_error(ErrorCode::kStorage, "cannot read " + path);
  if (static_cast<uint64_t>(size) > kMaxSnapshotFileBytes) {
    return make_error(ErrorCode::kTooLarge, "snapshot file " + path + " is " + std::to_string(size) +
                                                " bytes, past the " + std::to_string(kMaxSnapshotFileBytes) +
                                                " a snapshot can take");
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) return make_error(ErrorCode::kStorage, "cannot read " + path);
  return parse_snapshot_file(std::move(bytes), path);
}

Result<SnapshotFile> parse_snapshot_file(std::string bytes, const std::string& name) {
  SnapshotFile file;
  file.bytes = std::make_shared<const std::string>(std::move(bytes));
  const std::string_view all(*file.bytes);
  if (all.size() < kImageMagic.size() + 1 + schema::kSnapshotTrailerBytes) {
    return corrupt(name, "only " + std::to_string(all.size()) + " bytes");
  }
  if (all.substr(0, kImageMagic.size()) != kImageMagic) return corrupt(name, "it does not start as a corral snapshot");
  const std::string_view trailer = all.substr(all.size() - schema::kSnapshotTrailerBytes);
  if (trailer.substr(0, schema::kSnapshotTrailerMagic.size()) != schema::kSnapshotTrailerMagic) {
    return corrupt(name, "no checksum trailer at its end: truncated?");
  }
  file.image = all.substr(0, all.size() - schema::kSnapshotTrailerBytes);
  const std::string digest = sha256(file.image);
  if (digest != trailer.substr(schema::kSnapshotTrailerMagic.size())) {
    return corrupt(name, "SHA-256 mismatch: the file was altered or damaged");
  }
  file.digest_hex = hex(digest);
  auto records = parse_state_image(file.image);
  if (!records.ok()) return corrupt(name, records.error().message);
  file.records = std::move(records).value();
  return file;
}

Result<SnapshotSummary> summarize(const SnapshotFile& file) {
  SnapshotSummary out;
  out.hash = file.digest_hex.substr(0, 16);
  out.size_bytes = file.bytes->size();
  std::set<std::string> live;
  for (const ImageRecord& rec : file.records) {
    if (rec.space == storage::Space::kLease) {
      ++out.leases;
    } else if (rec.space == storage::Space::kKvMeta && rec.key == kv::kKvStateKey) {
      auto state = kv::decode_kv_state(rec.value);
      if (!state.ok()) return make_error(ErrorCode::kBadRequest, "snapshot key-space state: " + state.error().message);
      out.revision = state->current_revision;
      out.compact_revision = state->compact_revision;
    } else if (rec.space == storage::Space::kKv) {
      ++out.total_keys;
      auto rev = kv::decode_revision_key(rec.key);
      auto kv = kv::decode_key_value(rec.value);
      if (!rev || !kv.ok()) return make_error(ErrorCode::kBadRequest, "snapshot key-space record does not decode");
      if (rev->tombstone) {
        live.erase(kv->key);
      } else {
        live.insert(kv->key);
      }
    }
  }
  out.live_keys = live.size();
  return out;
}

}  // namespace corral::server
