#include "coordinator/kv/kv_hash.h"

#include <openssl/evp.h>

#include <memory>

#include "coordinator/kv/revision_key.h"

namespace corral::kv {

namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

void add_sized(EVP_MD_CTX* ctx, std::string_view bytes) {
  unsigned char size[8];
  for (int i = 0; i < 8; ++i) size[i] = static_cast<unsigned char>((bytes.size() >> (8 * i)) & 0xff);
  EVP_DigestUpdate(ctx, size, sizeof(size));
  EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
}

}  // namespace

Result<KvHash> hash_kv(const storage::Engine& engine, Revision revision, Revision current, Revision compact) {
  return hash_kv(*engine.read_view(), revision, current, compact);
}

Result<KvHash> hash_kv(const storage::ReadView& view, Revision revision, Revision current, Revision compact) {
  if (revision == 0) revision = current;
  if (revision > current) {
    Error e = make_error(ErrorCode::kFutureRevision, "revision " + std::to_string(revision) +
                                                         " is newer than the current revision " +
                                                         std::to_string(current));
    e.revision = current;
    return e;
  }
  if (revision < compact) {
    Error e = make_error(ErrorCode::kCompacted, "revision " + std::to_string(revision) +
                                                    " is compacted; the compact revision is " +
                                                    std::to_string(compact));
    e.revision = compact;
    return e;
  }
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return make_error(ErrorCode::kInternal, "cannot start a SHA-256");
  }
  auto it = view.scan(storage::Space::kKv, "", revision_key_lower(revision + 1));
  for (; it->valid(); it->next()) {
    add_sized(ctx.get(), it->key());
    add_sized(ctx.get(), it->value());
  }
  if (!it->status().ok()) return it->status().error();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1 || size < 8) {
    return make_error(ErrorCode::kInternal, "cannot finish a SHA-256");
  }
  KvHash out;
  for (int i = 0; i < 8; ++i) out.hash = (out.hash << 8) | digest[i];
  out.hash_revision = revision;
  out.compact_revision = compact;
  return out;
}

}  // namespace corral::kv
