#include "coordinator/net/curve_allow_list.h"

#include <set>

#include "coordinator/net/curve_key_file.h"
#include "coordinator/net/curve_text.h"

namespace corral::net {

std::optional<std::string> CurveAllowList::name_of(std::string_view key) const {
  auto it = name_by_key.find(std::string(key));
  if (it == name_by_key.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> CurveAllowList::key_of(std::string_view name) const {
  for (const auto& [key, n] : name_by_key) {
    if (n == name) return key;
  }
  return std::nullopt;
}

Result<CurveAllowList> parse_curve_allow_list(std::string_view text, std::string_view source,
                                              bool unique_names) {
  using curve_text::line_error;
  CurveAllowList out;
  std::set<std::string> names;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    line = curve_text::trim(line);
    if (line.empty()) continue;
    // '#' is also a Z85 character: a line is a comment unless its first
    // word is a key.
    const size_t gap = line.find_first_of(" \t");
    const std::string key(line.substr(0, gap));
    if (line[0] == '#' && !is_z85_key(key)) continue;
    if (gap == std::string_view::npos) return line_error(source, line_no, "expected 'PUBLICKEY NAME'");
    std::string_view rest = curve_text::trim(line.substr(gap));
    const std::string name(rest.substr(0, rest.find_first_of(" \t")));
    rest = curve_text::trim(rest.substr(name.size()));
    if (!is_z85_key(key)) return line_error(source, line_no, "'" + key + "' is not a 40-character Z85 public key");
    if (name[0] == '#') return line_error(source, line_no, "expected 'PUBLICKEY NAME', found no name");
    if (!rest.empty() && rest[0] != '#') {
      return line_error(source, line_no, "expected 'PUBLICKEY NAME', found more words after the name");
    }
    if (out.name_by_key.count(key)) return line_error(source, line_no, "key listed twice");
    if (unique_names && !names.insert(name).second) {
      return line_error(source, line_no, "name '" + name + "' listed twice");
    }
    out.name_by_key.emplace(key, name);
  }
  return out;
}

Result<CurveAllowList> load_curve_allow_file(const std::string& path, bool unique_names) {
  auto text = curve_text::read_small_file(path);
  if (!text.ok()) return text.error();
  return parse_curve_allow_list(*text, path, unique_names);
}

}  // namespace corral::net
