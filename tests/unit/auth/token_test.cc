#include "coordinator/auth/token.h"

#include <catch2/catch.hpp>

#include "coordinator/auth/password.h"

namespace corral::auth {
namespace {

const std::string kKey(32, 'k');

TEST_CASE("token: a minted token verifies until it expires") {
  TokenClaims c{"alice", 10'000, 7};
  auto token = mint_token(c, kKey);
  auto ok = verify_token(token, kKey, 9'999);
  REQUIRE(ok.ok());
  CHECK(ok->user == "alice");
  CHECK(ok->token_revision == 7);
  auto late = verify_token(token, kKey, 10'000);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::kUnauthenticated);
  CHECK(late.error().message.find("expired") != std::string::npos);
}

TEST_CASE("token: forged, re-signed with another key, altered or malformed tokens are refused") {
  auto token = mint_token({"alice", 10'000, 7}, kKey);
  std::vector<std::string> bad = {
      mint_token({"alice", 10'000, 7}, std::string(32, 'x')),        // another key
      mint_token({"root", 10'000, 7}, std::string(32, 'x')),
      "root" + token.substr(5),                                       // another user, same MAC
      "alice:99999999:7" + token.substr(token.rfind(':')),            // a later expiry
      "alice:10000:8" + token.substr(token.rfind(':')),               // another revision
      token.substr(0, token.size() - 1) + (token.back() == '0' ? "1" : "0"),
      "", "alice", "alice:1:2", ":1:2:3", "alice:x:7:00", "alice:10000:-1:00",
      std::string(kMaxTokenBytes + 1, 'a'),
  };
  for (const auto& t : bad) {
    INFO(t);
    auto r = verify_token(t, kKey, 0);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnauthenticated);
  }
  CHECK_FALSE(verify_token(token, "", 0).ok());  // auth off: no key, nothing verifies
}

TEST_CASE("token: a user name may hold ':'") {
  auto token = mint_token({"CN=a:b", 5, 1}, kKey);
  auto r = verify_token(token, kKey, 0);
  REQUIRE(r.ok());
  CHECK(r->user == "CN=a:b");
}

TEST_CASE("password: salted PBKDF2 hashes") {
  auto h1 = hash_password("secret", 1000);
  auto h2 = hash_password("secret", 1000);
  CHECK(h1 != h2);  // another salt
  CHECK(verify_password("secret", h1));
  CHECK(verify_password("secret", h2));
  CHECK_FALSE(verify_password("Secret", h1));
  CHECK_FALSE(verify_password("", h1));
  CHECK_FALSE(verify_password("secret", ""));
  CHECK_FALSE(verify_password("secret", h1.substr(1)));
  CHECK(h1.find("secret") == std::string::npos);
  // A known vector: the same salt and iterations give the same hash.
  CHECK(hash_password_with_salt("pw", std::string(16, 's'), 10) == hash_password_with_salt("pw", std::string(16, 's'), 10));
}

}  // namespace
}  // namespace corral::auth
