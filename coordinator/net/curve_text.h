// Line reading shared by the CURVE key and allow-list files.
#pragma once

#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::net::curve_text {

std::string_view trim(std::string_view s);
Error line_error(std::string_view source, size_t line, const std::string& what);
Result<std::string> read_small_file(const std::string& path);

}  // namespace corral::net::curve_text
