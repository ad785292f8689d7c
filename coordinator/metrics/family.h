// A metric family: one name, one type, fixed label names, and one series per
// combination of label values. Finding a series takes a mutex (callers on a
// hot path look it up once and keep the reference: series live as long as
// the family); updating it is lock-free.
//
// The number of series is bounded: label values often come from outside (a
// task's name, a request type), and each series costs memory and every
// scrape. Past max_series, new combinations all share one series whose label
// values are kOverflowValue, so totals stay right and the family stays small.
// A wrong number of label values lands there too, and values longer than
// kMaxLabelValueBytes are cut.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/metrics/exposition.h"

namespace corral::metrics {

inline constexpr size_t kDefaultMaxSeries = 200;
inline constexpr size_t kMaxLabelValueBytes = 256;
inline constexpr std::string_view kOverflowValue = "_overflow";

enum class MetricType { kCounter, kGauge, kHistogram };
std::string_view type_name(MetricType t);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
             size_t max_series);
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // HELP and TYPE, then every series in label-value order. Nothing for a
  // family without series.
  virtual void render(std::string& out) const = 0;

 protected:
  // The key of a series: the values (cut to kMaxLabelValueBytes), or the
  // overflow key when their number is wrong.
  std::vector<std::string> key_for(const std::vector<std::string_view>& values) const;
  std::vector<std::string> overflow_key() const;
  void render_header(std::string& out) const;

  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  size_t max_series_;
};

template <class M>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         size_t max_series, std::function<std::unique_ptr<M>()> make)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names), max_series),
        make_(std::move(make)) {}

  M& with(std::initializer_list<std::string_view> values) { return with(std::vector<std::string_view>(values)); }
  M& with(const std::vector<std::string_view>& values) {
    std::lock_guard lock(mu_);
    auto key = key_for(values);
    auto it = series_.find(key);
    if (it == series_.end() && series_.size() >= max_series_) it = series_.find(key = overflow_key());
    if (it == series_.end()) it = series_.emplace(std::move(key), make_()).first;
    return *it->second;
  }
  size_t series_count() const {
    std::lock_guard lock(mu_);
    return series_.size();
  }

  void render(std::string& out) const override {
    std::lock_guard lock(mu_);
    if (series_.empty()) return;
    render_header(out);
    for (const auto& [values, m] : series_) render_series(out, name_, label_names_, values, *m);
  }

 private:
  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_;
};

}  // namespace corral::metrics
