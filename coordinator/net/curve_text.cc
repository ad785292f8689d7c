#include "coordinator/net/curve_text.h"

#include <fstream>
#include <sstream>

namespace corral::net::curve_text {

// Key and allow files are a few lines per member or user; anything much
// bigger is not one of them.
constexpr std::streamoff kMaxFileBytes = 1 << 20;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

Error line_error(std::string_view source, size_t line, const std::string& what) {
  return make_error(ErrorCode::kBadRequest,
                    std::string(source) + ":" + std::to_string(line) + ": " + what);
}

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return make_error(ErrorCode::kBadRequest, path + ": cannot open");
  const std::streamoff size = in.tellg();
  if (size < 0 || size > kMaxFileBytes) {
    return make_error(ErrorCode::kBadRequest, path + ": not a CURVE key or allow file (over 1 MiB)");
  }
  in.seekg(0);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace corral::net::curve_text
