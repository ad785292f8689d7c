#include "coordinator/metrics/registry.h"

#include <stdexcept>

namespace corral::metrics {

template <class M>
Family<M>& Registry::add(std::unique_ptr<Family<M>> family) {
  std::lock_guard lock(mu_);
  auto& ref = *family;
  auto [it, inserted] = families_.emplace(family->name(), std::move(family));
  if (!inserted) throw std::invalid_argument("metric registered twice: " + it->first);
  return ref;
}

Family<Counter>& Registry::counter_family(std::string name, std::string help, std::vector<std::string> label_names,
                                          size_t max_series) {
  return add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), MetricType::kCounter,
                                               std::move(label_names), max_series,
                                               [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help, std::vector<std::string> label_names,
                                      size_t max_series) {
  return add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), MetricType::kGauge,
                                             std::move(label_names), max_series,
                                             [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::histogram_family(std::string name, std::string help,
                                              std::vector<std::string> label_names, std::vector<double> upper_bounds,
                                              size_t max_series) {
  Histogram probe(upper_bounds);  // bad bounds throw here, at registration
  return add(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), MetricType::kHistogram, std::move(label_names), max_series,
      [bounds = std::move(upper_bounds)] { return std::make_unique<Histogram>(bounds); }));
}

Counter& Registry::counter(std::string name, std::string help) {
  return counter_family(std::move(name), std::move(help), {}).with({});
}

Gauge& Registry::gauge(std::string name, std::string help) {
  return gauge_family(std::move(name), std::move(help), {}).with({});
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> upper_bounds) {
  return histogram_family(std::move(name), std::move(help), {}, std::move(upper_bounds)).with({});
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) family->render(out);
  return out;
}

std::vector<Registry::Description> Registry::describe() const {
  std::lock_guard lock(mu_);
  std::vector<Description> out;
  for (const auto& [name, f] : families_) out.push_back({f->name(), f->type(), f->label_names(), f->help()});
  return out;
}

}  // namespace corral::metrics
