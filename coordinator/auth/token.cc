#include "coordinator/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "coordinator/base/check.h"

namespace corral::auth {

namespace {

std::string signed_text(const TokenClaims& c) {
  return "corral-token-v1\n" + c.user + "\n" + std::to_string(c.expiry_ms) + "\n" + std::to_string(c.token_revision);
}

std::string hmac_hex(std::string_view key, std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto* out = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                   reinterpret_cast<const unsigned char*>(text.data()), text.size(), md, &len);
  CORRAL_CHECK_MSG(out != nullptr, "HMAC failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return hex;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Error refused(std::string why) { return make_error(ErrorCode::kUnauthenticated, "invalid auth token: " + why); }

}  // namespace

std::string mint_token(const TokenClaims& claims, std::string_view signing_key) {
  return claims.user + ":" + std::to_string(claims.expiry_ms) + ":" + std::to_string(claims.token_revision) + ":" +
         hmac_hex(signing_key, signed_text(claims));
}

Result<TokenClaims> verify_token(std::string_view token, std::string_view signing_key, int64_t now_ms) {
  if (token.size() > kMaxTokenBytes) return refused("too long");
  size_t mac_at = token.rfind(':');
  if (mac_at == std::string_view::npos || mac_at == 0) return refused("malformed");
  size_t rev_at = token.rfind(':', mac_at - 1);
  if (rev_at == std::string_view::npos || rev_at == 0) return refused("malformed");
  size_t exp_at = token.rfind(':', rev_at - 1);
  if (exp_at == std::string_view::npos || exp_at == 0) return refused("malformed");
  TokenClaims c;
  c.user = std::string(token.substr(0, exp_at));
  if (!parse_number(token.substr(exp_at + 1, rev_at - exp_at - 1), c.expiry_ms) ||
      !parse_number(token.substr(rev_at + 1, mac_at - rev_at - 1), c.token_revision)) {
    return refused("malformed");
  }
  auto want = hmac_hex(signing_key, signed_text(c));
  auto got = token.substr(mac_at + 1);
  if (signing_key.empty() || got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), want.size()) != 0) {
    return refused("bad signature");
  }
  if (c.expiry_ms <= now_ms) return refused("expired");
  return c;
}

}  // namespace corral::auth
