// Salted password hashes: PBKDF2-HMAC-SHA256 (OpenSSL), stored as
//   "pbkdf2-sha256" | u32 iterations (LE) | 16-byte salt | 32-byte hash
// The leader hashes before it proposes, so a password never enters the raft
// log; verification (authenticate) runs on the member that is asked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace corral::auth {

// Iterations of a new hash. Each authenticate pays them on the node loop
// (3 to 13 ms on the shared 2-core build machine): enough to make a stolen database
// costly to brute-force, small beside an election timeout. Clients keep
// their token rather than authenticate per request.
inline constexpr uint32_t kPasswordIterations = 4096;
inline constexpr size_t kMaxPasswordBytes = 1024;

// A new hash with a random salt.
std::string hash_password(std::string_view password, uint32_t iterations = kPasswordIterations);
// The same with a given salt (tests).
std::string hash_password_with_salt(std::string_view password, std::string_view salt, uint32_t iterations);
// False for a wrong password or a stored value that is not a hash.
bool verify_password(std::string_view password, std::string_view stored);

// `n` random bytes from OpenSSL's CSPRNG (aborts if it fails: no weak fallback).
std::string random_bytes(size_t n);

}  // namespace corral::auth
