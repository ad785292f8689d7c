// Reading a member's /metrics text in tests.
#pragma once

#include <cstdlib>
#include <string>

namespace corral::integration {

// The value of one series (`name{labels} value`) in a scrape; 0 if absent.
inline double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

}  // namespace corral::integration
