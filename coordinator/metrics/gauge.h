// A Prometheus gauge: a number that goes up and down. Set by whoever owns
// the figure (the node loop publishes its gauges once per turn at most).
#pragma once

#include <atomic>

namespace corral::metrics {

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace corral::metrics
