// The metrics of one process part (a corrald member, an agent): families by
// name, and their text for a Prometheus scrape. Owned by that part and passed
// by reference: no global registry, so two members in one test process keep
// their own figures. Registration happens at start-up; a bad or repeated
// name is a programming error (std::invalid_argument). render() may run on
// any thread while others update.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coordinator/metrics/family.h"

namespace corral::metrics {

class Registry {
 public:
  Counter& counter(std::string name, std::string help);
  Gauge& gauge(std::string name, std::string help);
  Histogram& histogram(std::string name, std::string help, std::vector<double> upper_bounds);

  Family<Counter>& counter_family(std::string name, std::string help, std::vector<std::string> label_names,
                                  size_t max_series = kDefaultMaxSeries);
  Family<Gauge>& gauge_family(std::string name, std::string help, std::vector<std::string> label_names,
                              size_t max_series = kDefaultMaxSeries);
  Family<Histogram>& histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                                      std::vector<double> upper_bounds, size_t max_series = kDefaultMaxSeries);

  // Every family with at least one series, sorted by name (exposition
  // format 0.0.4; serve it with kContentType).
  std::string render() const;

  struct Description {
    std::string name;
    MetricType type;
    std::vector<std::string> label_names;
    std::string help;
  };
  // Every registered family, sorted by name (for documentation).
  std::vector<Description> describe() const;

 private:
  template <class M>
  Family<M>& add(std::unique_ptr<Family<M>> family);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

}  // namespace corral::metrics
