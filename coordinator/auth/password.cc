#include "coordinator/auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "coordinator/base/check.h"

namespace corral::auth {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// A stored value's bound on iterations, so a corrupted record cannot stall
// the loop.
constexpr uint32_t kMaxIterations = 1'000'000;

std::string derive(std::string_view password, std::string_view salt, uint32_t iterations) {
  std::string out(kHashBytes, '\0');
  int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                             reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                             static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()),
                             reinterpret_cast<unsigned char*>(out.data()));
  CORRAL_CHECK_MSG(ok == 1, "PKCS5_PBKDF2_HMAC failed");
  return out;
}

}  // namespace

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  CORRAL_CHECK_MSG(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1,
                   "RAND_bytes failed");
  return out;
}

std::string hash_password_with_salt(std::string_view password, std::string_view salt, uint32_t iterations) {
  std::string out(kScheme);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((iterations >> (8 * i)) & 0xff));
  out.append(salt);
  out.append(derive(password, salt, iterations));
  return out;
}

std::string hash_password(std::string_view password, uint32_t iterations) {
  return hash_password_with_salt(password, random_bytes(kSaltBytes), iterations);
}

bool verify_password(std::string_view password, std::string_view stored) {
  if (stored.size() != kScheme.size() + 4 + kSaltBytes + kHashBytes || !stored.starts_with(kScheme)) return false;
  const char* p = stored.data() + kScheme.size();
  uint32_t iterations = 0;
  for (int i = 0; i < 4; ++i) iterations |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  if (iterations == 0 || iterations > kMaxIterations || password.size() > kMaxPasswordBytes) return false;
  auto salt = stored.substr(kScheme.size() + 4, kSaltBytes);
  auto want = stored.substr(kScheme.size() + 4 + kSaltBytes);
  auto got = derive(password, salt, iterations);
  return CRYPTO_memcmp(got.data(), want.data(), kHashBytes) == 0;
}

}  // namespace corral::auth
