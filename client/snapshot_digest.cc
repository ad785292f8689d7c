#include "client/snapshot_digest.h"

#include <openssl/evp.h>

#include "coordinator/base/check.h"
#include "schema/snapshot_file.h"

namespace corral::client {

struct SnapshotDigest::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

SnapshotDigest::SnapshotDigest() : impl_(std::make_unique<Impl>()) {
  CORRAL_CHECK(impl_->ctx != nullptr && EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
}

SnapshotDigest::~SnapshotDigest() = default;

void SnapshotDigest::update(std::string_view bytes) {
  CORRAL_CHECK(EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()) == 1);
}

std::string SnapshotDigest::trailer() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  CORRAL_CHECK(EVP_DigestFinal_ex(impl_->ctx, digest, &size) == 1 && size == schema::kSnapshotDigestBytes);
  std::string out(schema::kSnapshotTrailerMagic);
  out.append(reinterpret_cast<const char*>(digest), size);
  return out;
}

}  // namespace corral::client
