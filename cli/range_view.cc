#include "cli/range_view.h"

#include <algorithm>
#include <cctype>

namespace corral::cli {

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<SortSpec> parse_sort(const std::string& sort_by, const std::string& order) {
  SortSpec spec;
  const std::string by = upper(sort_by);
  if (by == "KEY") spec.target = SortTarget::kKey;
  else if (by == "VERSION") spec.target = SortTarget::kVersion;
  else if (by == "CREATE") spec.target = SortTarget::kCreate;
  else if (by == "MODIFY") spec.target = SortTarget::kModify;
  else if (by == "VALUE") spec.target = SortTarget::kValue;
  else if (!by.empty()) return std::nullopt;
  const std::string o = upper(order);
  if (o == "DESCEND") spec.descend = true;
  else if (!o.empty() && o != "ASCEND") return std::nullopt;
  if (spec.target == SortTarget::kNone && !o.empty()) spec.target = SortTarget::kKey;
  return spec;
}

void sort_kvs(std::vector<client::KeyValue>& kvs, const SortSpec& spec) {
  if (spec.target == SortTarget::kNone) return;
  auto less = [&](const client::KeyValue& a, const client::KeyValue& b) {
    switch (spec.target) {
      case SortTarget::kKey: return a.key < b.key;
      case SortTarget::kVersion: return a.version < b.version;
      case SortTarget::kCreate: return a.create_revision < b.create_revision;
      case SortTarget::kModify: return a.mod_revision < b.mod_revision;
      case SortTarget::kValue: return a.value < b.value;
      case SortTarget::kNone: break;
    }
    return false;
  };
  if (spec.descend) {
    std::stable_sort(kvs.begin(), kvs.end(), [&](const auto& a, const auto& b) { return less(b, a); });
  } else {
    std::stable_sort(kvs.begin(), kvs.end(), less);
  }
}

std::string hex_bytes(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 4);
  for (unsigned char c : bytes) {
    out += "\\x";
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

}  // namespace corral::cli
