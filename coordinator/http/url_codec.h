// Percent-decoding and the name=value lists of a query string or of an
// application/x-www-form-urlencoded body. Pure: no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace corral::http {

// "%2F" -> "/"; in forms and queries "+" is a space (plus_is_space).
// nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// name=value&name=value, decoded; a name given twice keeps its last value
// (as etcd v2 reads them). nullopt: a part that does not decode.
using Params = std::map<std::string, std::string>;
std::optional<Params> parse_params(std::string_view text);

// A request target split at '?': the path (still encoded) and the query.
struct Target {
  std::string_view path;
  std::string_view query;
};
Target split_target(std::string_view target);

}  // namespace corral::http
