// Values and keys in JSON: UTF-8 text as is, anything else as base64 with
// an "...Encoding":"base64" field beside it (JSON strings must be UTF-8).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corral::http {

bool is_utf8(std::string_view bytes);
std::string base64_encode(std::string_view bytes);
// nullopt: not base64 (standard alphabet, padded).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace corral::http
