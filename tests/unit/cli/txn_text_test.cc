// corralctl txn's text (etcdctl's syntax): sections, compares, ops, quoting,
// and a typed error naming the line for every malformed one.
#include <catch2/catch.hpp>

#include "cli/txn_text.h"

using namespace corral::cli;
using corral::client::Compare;
using corral::client::DeleteRequest;
using corral::client::ErrorCode;
using corral::client::PutRequest;
using corral::client::RangeRequest;

TEST_CASE("etcdctl's example txn parses into compares, success and failure ops") {
  auto t = parse_txn_text(
      "mod(\"key1\") > \"0\"\n"
      "\n"
      "put key1 \"overwrote-key1\"\n"
      "\n"
      "put key1 \"created-key1\"\n"
      "put key2 \"some extra key\"\n"
      "\n");
  REQUIRE(t.ok());
  REQUIRE(t->compare.size() == 1);
  CHECK(t->compare[0].target == Compare::Target::kMod);
  CHECK(t->compare[0].op == Compare::Op::kGreater);
  CHECK(t->compare[0].key == "key1");
  CHECK(t->compare[0].number == 0);
  REQUIRE(t->success.size() == 1);
  CHECK(std::get<PutRequest>(t->success[0].op).value == "overwrote-key1");
  REQUIRE(t->failure.size() == 2);
  CHECK(std::get<PutRequest>(t->failure[1].op).key == "key2");
  CHECK(std::get<PutRequest>(t->failure[1].op).value == "some extra key");
}

TEST_CASE("every compare target and operator, with short and long names") {
  auto t = parse_txn_text(
      "c(\"/a\") = \"3\"\ncreate(\"/a\") != \"4\"\nver(\"/a\") < \"2\"\nversion(/a) = 1\n"
      "val(\"/a\") = \"x y\"\nvalue(\"/a\") != 'q'\nlease(\"/a\") = \"694d77aa9e38260f\"\nm(/a) > 0\n");
  REQUIRE(t.ok());
  REQUIRE(t->compare.size() == 8);
  CHECK(t->compare[0].target == Compare::Target::kCreate);
  CHECK(t->compare[1].op == Compare::Op::kNotEqual);
  CHECK(t->compare[2].target == Compare::Target::kVersion);
  CHECK(t->compare[2].op == Compare::Op::kLess);
  CHECK(t->compare[3].key == "/a");
  CHECK(t->compare[4].value == "x y");
  CHECK(t->compare[5].value == "q");
  CHECK(t->compare[6].target == Compare::Target::kLease);
  CHECK(t->compare[6].number == static_cast<int64_t>(0x694d77aa9e38260fULL));
  CHECK(t->success.empty());
  CHECK(t->failure.empty());
}

TEST_CASE("ops take etcdctl's flags, quoted words keep spaces and escapes") {
  auto t = parse_txn_text(
      "\n"
      "put \"/k 1\" \"line\\nnext\\x21\" --lease=0x1f\n"
      "get /p --prefix --limit=5 --rev=9 --keys-only\n"
      "del /d --prefix --prev-kv\n"
      "\n"
      "get /g --count-only\n");
  REQUIRE(t.ok());
  REQUIRE(t->success.size() == 3);
  const auto& put = std::get<PutRequest>(t->success[0].op);
  CHECK(put.key == "/k 1");
  CHECK(put.value == "line\nnext!");
  CHECK(put.lease == 0x1f);
  const auto& get = std::get<RangeRequest>(t->success[1].op);
  CHECK(get.key == "/p");
  CHECK(get.range_end == "/q");
  CHECK(get.limit == 5);
  CHECK(get.revision == 9);
  CHECK(get.keys_only);
  const auto& del = std::get<DeleteRequest>(t->success[2].op);
  CHECK(del.range_end == "/e");
  CHECK(del.prev_kv);
  REQUIRE(t->failure.size() == 1);
  CHECK(std::get<RangeRequest>(t->failure[0].op).count_only);
}

TEST_CASE("malformed lines are bad requests naming the line") {
  struct Case {
    const char* text;
    const char* line;
    const char* says;
  };
  const Case cases[] = {
      {"mod(\"k\") >> \"0\"\n", "txn line 1", "operator"},
      {"bogus(\"k\") = \"0\"\n", "txn line 1", "compare target"},
      {"mod \"k\" = 0\n", "txn line 1", "looks like"},
      {"mod(\"k\") = \"x\"\n", "txn line 1", "decimal"},
      {"mod(\"k\") = \"-1\"\n", "txn line 1", "decimal"},
      {"lease(\"k\") = \"zz\"\n", "txn line 1", "hexadecimal"},
      {"val(\"k) = 0\n", "txn line 1", "quote"},
      {"mod(\"k\") =\n", "txn line 1", "nothing to compare"},
      {"mod(\"k\") = 1 extra\n", "txn line 1", "unexpected text"},
      {"\nput k\n", "txn line 2", "KEY VALUE"},
      {"\nput k v --ttl=3\n", "txn line 2", "--ttl"},
      {"\n\nfrob k\n", "txn line 3", "unknown op"},
      {"\nget k --limit=x\n", "txn line 2", "decimal"},
      {"\ndel\n", "txn line 2", "one KEY"},
      {"\nput k \"v\\q\"\n", "txn line 2", "escape"},
      {"\n\n\n\nput k v\n", "txn line 5", "after the failure"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto t = parse_txn_text(c.text);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == ErrorCode::kBadRequest);
    CHECK(t.error().message.find(c.line) != std::string::npos);
    CHECK(t.error().message.find(c.says) != std::string::npos);
  }
}

TEST_CASE("hex ids parse with or without 0x, anything else is refused") {
  CHECK(parse_hex_id("0x10") == 16u);
  CHECK(parse_hex_id("ff") == 255u);
  CHECK_FALSE(parse_hex_id("").has_value());
  CHECK_FALSE(parse_hex_id("0x").has_value());
  CHECK_FALSE(parse_hex_id("12g").has_value());
  CHECK_FALSE(parse_hex_id("11112222333344445").has_value());
}
