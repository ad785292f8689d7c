// A Prometheus histogram with fixed buckets. observe() is lock-free: one
// atomic add on the bucket the value falls in and one on the sum. Buckets are
// kept per bucket and made cumulative when read, so a reader sees _count equal
// to the +Inf bucket even while other threads observe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace corral::metrics {

// Upper bounds for latencies in seconds, 100 us .. 10 s (etcd's request
// and disk histograms cover the same range).
std::vector<double> latency_buckets();

class Histogram {
 public:
  // upper_bounds: strictly increasing, finite; +Inf is implied. Bad bounds
  // are a programming error (std::invalid_argument).
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double v);
  void observe(std::chrono::steady_clock::duration d) {
    observe(std::chrono::duration<double>(d).count());
  }

  struct Snapshot {
    std::vector<double> upper_bounds;  // without +Inf
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // upper_bounds_.size() + 1
  std::atomic<double> sum_{0};
};

}  // namespace corral::metrics

namespace corral::metrics {

// Observes the time from its construction to its end into a histogram.
class ScopedTimer {
 public:
  explicit ScopedTimer(Histogram& h) : h_(h), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { h_.observe(std::chrono::steady_clock::now() - start_); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Histogram& h_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace corral::metrics
