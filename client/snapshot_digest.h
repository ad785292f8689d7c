// The SHA-256 that ends a snapshot file (schema/snapshot_file.h), computed
// over the image as its chunks arrive, on OpenSSL's EVP interface.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace corral::client {

class SnapshotDigest {
 public:
  SnapshotDigest();
  ~SnapshotDigest();
  SnapshotDigest(const SnapshotDigest&) = delete;
  SnapshotDigest& operator=(const SnapshotDigest&) = delete;

  void update(std::string_view bytes);
  // The trailer for the bytes seen: kSnapshotTrailerMagic then the digest.
  // Call once, after the last update.
  std::string trailer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::client
