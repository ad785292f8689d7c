// A Prometheus counter: a whole number that only goes up. Updates are one
// relaxed atomic add, so any thread may count on its hot path.
#pragma once

#include <atomic>
#include <cstdint>

namespace corral::metrics {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace corral::metrics
