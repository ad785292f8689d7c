#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/revision_key.h"

using namespace corral::kv;

TEST_CASE("revision keys sort like revisions", "[revision_key]") {
  std::vector<Rev> revs = {{0, 0},    {1, 0},   {1, 1},          {1, 255},        {1, 256},
                           {2, 0},    {255, 3}, {256, 0},        {65536, 7},      {1LL << 40, 2},
                           {INT64_MAX - 1, 0}, {INT64_MAX, INT64_MAX}};
  for (size_t i = 0; i < revs.size(); ++i) {
    for (size_t j = 0; j < revs.size(); ++j) {
      for (bool ti : {false, true}) {
        for (bool tj : {false, true}) {
          std::string a = revision_key(revs[i], ti);
          std::string b = revision_key(revs[j], tj);
          if (revs[i] < revs[j]) CHECK(a < b);
          if (revs[j] < revs[i]) CHECK(b < a);
        }
      }
    }
  }
}

TEST_CASE("revision keys round-trip and reject foreign bytes", "[revision_key]") {
  Rev r{123456789, 42};
  auto put = decode_revision_key(revision_key(r));
  REQUIRE(put);
  CHECK(put->rev == r);
  CHECK_FALSE(put->tombstone);
  auto del = decode_revision_key(revision_key(r, true));
  REQUIRE(del);
  CHECK(del->rev == r);
  CHECK(del->tombstone);
  CHECK(revision_key(r).size() == kRevisionKeyBytes);
  CHECK(revision_key(r, true).size() == kRevisionKeyBytes + 1);

  CHECK_FALSE(decode_revision_key(""));
  CHECK_FALSE(decode_revision_key(revision_key(r).substr(0, 15)));
  CHECK_FALSE(decode_revision_key(revision_key(r) + "x"));
  CHECK_FALSE(decode_revision_key(revision_key(r) + "tt"));
  CHECK_FALSE(decode_revision_key(std::string(16, '\xff')));  // above INT64_MAX
  CHECK(revision_key_lower(7) == revision_key(Rev{7, 0}));
}

TEST_CASE("prefix_end and range conventions", "[key_range]") {
  CHECK(prefix_end("/apps/") == "/apps0");
  CHECK(prefix_end("a") == "b");
  CHECK(prefix_end(std::string("a\xff", 2)) == "b");
  CHECK(prefix_end(std::string("\xff\xff", 2)) == std::string(kRangeEndAll));
  CHECK(prefix_end("") == std::string(kRangeEndAll));

  auto single = KeyRange::make("k", "");
  REQUIRE(single.ok());
  CHECK(single->contains("k"));
  CHECK_FALSE(single->contains("k0"));
  auto all = KeyRange::make(std::string(kRangeEndAll), kRangeEndAll);
  REQUIRE(all.ok());
  CHECK(all->contains("a"));
  CHECK(all->contains(std::string(1, '\0')));
  auto from = KeyRange::make("m", kRangeEndAll);
  REQUIRE(from.ok());
  CHECK(from->contains("zzz"));
  CHECK_FALSE(from->contains("l"));
  auto every = KeyRange::make("", kRangeEndAll);
  REQUIRE(every.ok());
  CHECK(every->contains("a"));

  CHECK(KeyRange::make("", "").error().code == corral::ErrorCode::kBadRequest);
  CHECK(KeyRange::make("", "z").error().code == corral::ErrorCode::kBadRequest);
  CHECK(KeyRange::make("b", "a").error().code == corral::ErrorCode::kBadRequest);
  CHECK(KeyRange::make(std::string(5000, 'k'), "").error().code == corral::ErrorCode::kTooLarge);
  CHECK(KeyRange::make("a", std::string(5000, 'z')).error().code == corral::ErrorCode::kTooLarge);
}
