#include <catch2/catch.hpp>

#include "cli/range_view.h"

using namespace corral::cli;
using corral::client::KeyValue;

namespace {
KeyValue kv(std::string key, std::string value, int64_t create, int64_t mod, int64_t version) {
  KeyValue k;
  k.key = std::move(key);
  k.value = std::move(value);
  k.create_revision = create;
  k.mod_revision = mod;
  k.version = version;
  return k;
}
std::string keys(const std::vector<KeyValue>& kvs) {
  std::string out;
  for (const auto& k : kvs) out += k.key;
  return out;
}
}  // namespace

TEST_CASE("sort-by and order take etcdctl's words, refuse others", "[cli][range]") {
  CHECK(parse_sort("", "")->target == SortTarget::kNone);
  CHECK(parse_sort("modify", "")->target == SortTarget::kModify);
  CHECK(parse_sort("VALUE", "DESCEND")->descend);
  CHECK(parse_sort("", "descend")->target == SortTarget::kKey);  // --order alone: by key
  CHECK_FALSE(parse_sort("size", ""));
  CHECK_FALSE(parse_sort("KEY", "up"));
}

TEST_CASE("a page sorted by each target", "[cli][range]") {
  const std::vector<KeyValue> page = {kv("a", "z", 5, 9, 3), kv("b", "x", 2, 7, 1), kv("c", "y", 8, 8, 1)};
  auto sorted = [&](const char* by, const char* order) {
    auto kvs = page;
    sort_kvs(kvs, *parse_sort(by, order));
    return keys(kvs);
  };
  CHECK(sorted("", "") == "abc");
  CHECK(sorted("KEY", "DESCEND") == "cba");
  CHECK(sorted("CREATE", "") == "bac");
  CHECK(sorted("MODIFY", "DESCEND") == "acb");
  CHECK(sorted("VALUE", "") == "bca");
  CHECK(sorted("VERSION", "") == "bca");  // ties keep key order
}

TEST_CASE("hex writes every byte as two hex digits", "[cli][range]") {
  CHECK(hex_bytes("") == "");
  CHECK(hex_bytes("ab") == "\\x61\\x62");
  CHECK(hex_bytes(std::string("\0\xff", 2)) == "\\x00\\xff");
}
