#include "client/duration.h"

#include <cctype>
#include <string>

namespace corral::client {

namespace {
// Bounds the result so that later arithmetic on it cannot overflow.
constexpr int64_t kMaxDurationUs = int64_t{24} * 3600 * 1'000'000 * 10'000;
}  // namespace

Result<std::chrono::microseconds> parse_duration(std::string_view text) {
  const std::string shown(text.substr(0, kMaxDurationTextBytes));
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kBadRequest, "duration '" + shown + "': " + why);
  };
  if (text.empty()) return bad("empty");
  if (text.size() > kMaxDurationTextBytes) return bad("too long");
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    if (text.size() > 9) return bad("too large");
    return std::chrono::microseconds(std::stoll(std::string(text)) * 1'000'000);
  }
  int64_t total_us = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return bad("expected a number at '" + std::string(text.substr(start)) + "'");
    const std::string number(text.substr(start, i - start));
    const size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale_us;
    if (unit == "h") scale_us = 3600e6;
    else if (unit == "m") scale_us = 60e6;
    else if (unit == "s") scale_us = 1e6;
    else if (unit == "ms") scale_us = 1e3;
    else if (unit == "us" || unit == "µs") scale_us = 1;
    else if (unit == "ns") scale_us = 1e-3;
    else return bad("unknown unit '" + std::string(unit) + "'");
    double value;
    try {
      size_t used = 0;
      value = std::stod(number, &used);
      if (used != number.size()) return bad("bad number '" + number + "'");
    } catch (const std::exception&) {
      return bad("bad number '" + number + "'");
    }
    const double us = value * scale_us;
    if (us > static_cast<double>(kMaxDurationUs - total_us)) return bad("too large");
    total_us += static_cast<int64_t>(us);
  }
  return std::chrono::microseconds(total_us);
}

}  // namespace corral::client
