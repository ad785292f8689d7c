#include <catch2/catch.hpp>

#include "cli/suggest.h"

using corral::cli::edit_distance;
using corral::cli::nearest;

TEST_CASE("edit distance", "[cli][suggest]") {
  CHECK(edit_distance("", "get") == 3);
  CHECK(edit_distance("get", "get") == 0);
  CHECK(edit_distance("gte", "get") == 2);
  CHECK(edit_distance("membr", "member") == 1);
}

TEST_CASE("the nearest command to a typo, nothing for a word far from all", "[cli][suggest]") {
  const std::vector<std::string> commands = {"put", "get", "del", "watch", "lease", "member", "endpoint"};
  CHECK(nearest("gte", commands) == "get");
  CHECK(nearest("wach", commands) == "watch");
  CHECK(nearest("mem", commands) == "member");
  CHECK(nearest("endpionts", commands) == "endpoint");
  CHECK(nearest("frobnicate", commands).empty());
  CHECK(nearest("", commands).empty());
}
