// A bound on failed authentications, per (user name, connection): each key
// has a bucket of kBurst failures that refills one every kRefillMs. While a
// key's bucket is empty its authentications are answered unauthenticated ("too many failed
// authentications") at once, without hashing the password: a stream of guesses costs the member
// next to nothing and cannot lock the user out of other connections. A
// success forgets the key's failures. The caller charges an attempt when
// it starts (failed) and refunds it on success (succeeded).
//
// Keyed by connection too because the name alone would let anyone lock a
// user out; the password worker's queue bound (password_worker.h) caps the
// hashing of many connections together. Time is given by the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace corral::server {

struct LoginLimits {
  int burst = 5;                         // failures allowed at once
  std::chrono::milliseconds refill{1000};  // one more failure allowed per this
  size_t max_keys = 10'000;              // past it the table starts over
};

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LoginLimiter(LoginLimits limits = {}) : limits_(limits) {}

  // 0 when `key` may try now; else how long until it may.
  std::chrono::milliseconds wait_before_try(const std::string& key, Clock::time_point now);
  void failed(const std::string& key, Clock::time_point now);
  void succeeded(const std::string& key) { buckets_.erase(key); }
  size_t keys() const { return buckets_.size(); }

 private:
  struct Bucket {
    double failures_left = 0;
    Clock::time_point updated{};
  };
  void refill(Bucket& b, Clock::time_point now) const;

  LoginLimits limits_;
  std::map<std::string, Bucket> buckets_;
};

// The limiter key of a user's authentication from one connection.
std::string login_limiter_key(std::string_view user, std::string_view connection);

}  // namespace corral::server
