#include "coordinator/auth/permission.h"

#include <catch2/catch.hpp>

namespace corral::auth {
namespace {

const std::string kAll("\0", 1);

bool allowed(const std::vector<Permission>& perms, std::string_view key, std::string_view end, Access a) {
  std::vector<const Permission*> ptrs;
  for (const auto& p : perms) ptrs.push_back(&p);
  return covers(ptrs, key, end, a);
}

TEST_CASE("permission: one key, a range, a prefix, from a key on") {
  std::vector<Permission> perms = {
      {true, false, "/one", ""},
      {true, true, "/apps/web/", "/apps/web0"},  // the prefix /apps/web/
      {false, true, "/zfrom/", kAll},
  };
  struct Row { std::string key, end; Access access; bool want; };
  std::vector<Row> table = {
      {"/one", "", Access::kRead, true},
      {"/one", "", Access::kWrite, false},
      {"/one0", "", Access::kRead, false},
      {"/one", "/one\x01", Access::kRead, false},      // [/one, /one\x01) holds /one\0 too
      {"/one", std::string("/one\0", 5), Access::kRead, true},
      {"/apps/web/a", "", Access::kWrite, true},
      {"/apps/web/", "/apps/web0", Access::kRead, true},
      {"/apps/web/", "/apps/web1", Access::kRead, false},  // past the prefix
      {"/apps/", "/apps0", Access::kRead, false},          // wider than the prefix
      {"/apps/web", "", Access::kRead, false},             // the prefix's parent key
      {"/zfrom/x", "", Access::kWrite, true},
      {"/zfrom/x", kAll, Access::kWrite, true},
      {"/zfrom/x", kAll, Access::kRead, false},
      {"/zfro", kAll, Access::kWrite, false},
      {"", kAll, Access::kWrite, false},
  };
  for (const auto& row : table) {
    INFO(row.key << " .. " << row.end << (row.access == Access::kRead ? " read" : " write"));
    CHECK(allowed(perms, row.key, row.end, row.access) == row.want);
  }
}

TEST_CASE("permission: adjacent and overlapping ranges cover their union, a gap does not") {
  std::vector<Permission> perms = {
      {true, false, "a", "c"},
      {true, false, "b", "e"},
      {true, false, "e", "g"},
      {true, false, "h", "k"},
  };
  CHECK(allowed(perms, "a", "g", Access::kRead));
  CHECK(allowed(perms, "b", "f", Access::kRead));
  CHECK_FALSE(allowed(perms, "a", "i", Access::kRead));  // g..h is not granted
  CHECK_FALSE(allowed(perms, "a", "g", Access::kWrite));
  CHECK(allowed(perms, "h", "", Access::kRead));
}

TEST_CASE("permission: every key") {
  std::vector<Permission> perms = {{true, true, kAll, kAll}};
  CHECK(allowed(perms, "", kAll, Access::kRead));
  CHECK(allowed(perms, kAll, kAll, Access::kWrite));
  CHECK(allowed(perms, "/x", "", Access::kWrite));
  CHECK_FALSE(allowed({}, "/x", "", Access::kRead));
}

}  // namespace
}  // namespace corral::auth
