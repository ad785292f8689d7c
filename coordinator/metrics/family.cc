#include "coordinator/metrics/family.h"

#include <stdexcept>

namespace corral::metrics {

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
                       size_t max_series)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)),
      max_series_(max_series) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("bad metric name: " + name_);
  for (size_t i = 0; i < label_names_.size(); ++i) {
    const auto& l = label_names_[i];
    if (!valid_label_name(l) || (type_ == MetricType::kHistogram && l == "le")) {
      throw std::invalid_argument("bad label name for " + name_ + ": " + l);
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names_[j] == l) throw std::invalid_argument("label named twice in " + name_ + ": " + l);
    }
  }
  if (max_series_ == 0) max_series_ = 1;
}

std::vector<std::string> FamilyBase::key_for(const std::vector<std::string_view>& values) const {
  if (values.size() != label_names_.size()) return overflow_key();
  std::vector<std::string> key;
  key.reserve(values.size());
  for (auto v : values) key.emplace_back(v.substr(0, kMaxLabelValueBytes));
  return key;
}

std::vector<std::string> FamilyBase::overflow_key() const {
  return std::vector<std::string>(label_names_.size(), std::string(kOverflowValue));
}

void FamilyBase::render_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_name(type_);
  out += '\n';
}

}  // namespace corral::metrics
