// How long the node loop's turns take: a histogram the member keeps and
// reports (status response, corralctl status). A turn that outlasts an
// election timeout costs a leader its leadership, so the longest turn is
// the figure to watch; the buckets show how often turns come near it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace corral::server {

class LoopTurnStats {
 public:
  // Upper bounds of the buckets, in microseconds; a last bucket takes the rest.
  static constexpr std::array<uint64_t, 12> kBucketUpperMicros = {
      100, 1'000, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'000'000, 5'000'000};
  static constexpr size_t kBucketCount = kBucketUpperMicros.size() + 1;

  void record(std::chrono::steady_clock::duration took);

  uint64_t count() const { return count_; }
  uint64_t max_micros() const { return max_micros_; }
  // The upper bound of bucket i (UINT64_MAX for the last one).
  static uint64_t bucket_upper_micros(size_t i);
  uint64_t bucket_count(size_t i) const { return buckets_[i]; }

 private:
  uint64_t count_ = 0;
  uint64_t max_micros_ = 0;
  std::array<uint64_t, kBucketCount> buckets_{};
};

}  // namespace corral::server
