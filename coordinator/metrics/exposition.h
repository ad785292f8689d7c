// Prometheus text exposition format 0.0.4: escaping, number formatting and
// the sample lines of one series of each metric type.
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "coordinator/metrics/counter.h"
#include "coordinator/metrics/gauge.h"
#include "coordinator/metrics/histogram.h"

namespace corral::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A label value inside quotes: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view v);
// A HELP text: backslash and newline escaped.
std::string escape_help(std::string_view v);
// Shortest text that reads back as v; whole numbers without a fraction;
// +Inf, -Inf, NaN as Prometheus spells them.
std::string format_value(double v);

bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// The sample lines of one series. label_names and label_values have the
// same length.
void render_series(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Counter& c);
void render_series(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Gauge& g);
void render_series(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Histogram& h);

}  // namespace corral::metrics
