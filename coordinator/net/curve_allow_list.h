// The CURVE allow-lists of corrald (--client-curve-allow-file,
// --peer-curve-allow-file): one `PUBLICKEY NAME` per line, the key in Z85
// (40 characters), the name a user (clients) or a member name (peers).
// Blank lines and '#' comments (a whole line, or after the name) are
// ignored; '#' is also a Z85 character, so a line whose first word is a key
// is an entry even if it starts with '#'.
// A malformed line, a repeated key, or (unique_names) a repeated name is
// refused with kBadRequest naming the file and the line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::net {

struct CurveAllowList {
  std::map<std::string, std::string> name_by_key;  // Z85 public key -> name

  std::optional<std::string> name_of(std::string_view key) const;
  // The key listed for this name (member names are unique in a peer list).
  std::optional<std::string> key_of(std::string_view name) const;
};

Result<CurveAllowList> parse_curve_allow_list(std::string_view text, std::string_view source,
                                              bool unique_names);
Result<CurveAllowList> load_curve_allow_file(const std::string& path, bool unique_names);

}  // namespace corral::net
