#include <catch2/catch.hpp>

#include "coordinator/http/http_error.h"
#include "coordinator/http/kv_json.h"
#include "coordinator/http/txn_json.h"
#include "coordinator/http/value_encoding.h"

using namespace corral::http;
namespace client = corral::client;

TEST_CASE("values that are not UTF-8 travel as base64") {
  CHECK(is_utf8("héllo €"));
  CHECK_FALSE(is_utf8("\xff"));
  CHECK_FALSE(is_utf8("\xc0\xaf"));   // overlong
  CHECK_FALSE(is_utf8("\xed\xa0\x80"));  // surrogate
  CHECK_FALSE(is_utf8("\xe2\x82"));   // cut short
  CHECK(base64_encode("ab") == "YWI=");
  CHECK(*base64_decode("YWI=") == "ab");
  CHECK(*base64_decode("") == "");
  CHECK_FALSE(base64_decode("YWI"));
  CHECK_FALSE(base64_decode("Y!I="));
  client::KeyValue kv{"/k", std::string("\x00\xff", 2), 2, 3, 1, 0x1a};
  auto j = kv_json(kv);
  CHECK(j["value"] == "AP8=");
  CHECK(j["valueEncoding"] == "base64");
  CHECK(j["lease"] == "1a");
  CHECK(j["modRevision"] == 3);
  CHECK_FALSE(kv_json(client::KeyValue{"/k", "v", 1, 1, 1, 0}).contains("lease"));
}

TEST_CASE("client errors map to statuses and codes") {
  CHECK(from_client_error(client::make_error(client::ErrorCode::kNotFound, "")).status == 404);
  CHECK(from_client_error(client::make_error(client::ErrorCode::kTimeout, "")).status == 504);
  CHECK(from_client_error(client::make_error(client::ErrorCode::kPermissionDenied, "")).code == "permissionDenied");
  auto unavailable = from_client_error(client::make_error(client::ErrorCode::kUnavailable, "no leader"));
  CHECK(unavailable.status == 503);
  CHECK(unavailable.retry_after_seconds > 0);
  CHECK(from_client_error(client::make_error(client::ErrorCode::kTooLarge, "")).status == 413);
  client::Error compacted = client::make_error(client::ErrorCode::kCompacted, "old");
  compacted.compact_revision = 9;
  auto j = error_json(from_client_error(compacted));
  CHECK(j["error"]["code"] == "compacted");
  CHECK(j["error"]["compactRevision"] == 9);
}

TEST_CASE("txn documents parse, bad ones are refused with the place") {
  auto txn = parse_txn(R"({"compare":[{"key":"/a","target":"version","result":">","value":0},
                                       {"key":"/a","target":"value","result":"=","value":"x"}],
                          "success":[{"put":{"key":"/b","value":"1"}},{"get":{"key":"/c","prefix":true}}],
                          "failure":[{"delete":{"key":"/d"}}]})");
  REQUIRE(std::holds_alternative<client::TxnRequest>(txn));
  auto& t = std::get<client::TxnRequest>(txn);
  REQUIRE(t.compare.size() == 2);
  CHECK(t.compare[0].op == client::Compare::Op::kGreater);
  CHECK(t.compare[1].value == "x");
  CHECK(t.success.size() == 2);
  CHECK(std::get<client::RangeRequest>(t.success[1].op).range_end == "/d");
  auto bad = parse_txn(R"({"success":[{"explode":{"key":"/a"}}]})");
  REQUIRE(std::holds_alternative<HttpError>(bad));
  CHECK(std::get<HttpError>(bad).message.find("success[0]") != std::string::npos);
  CHECK(std::holds_alternative<HttpError>(parse_txn(R"({"compare":[{"key":"/a","target":"size","result":"=","value":1}]})")));
  CHECK(std::holds_alternative<HttpError>(parse_txn(R"({"other":1})")));
  CHECK(std::holds_alternative<HttpError>(parse_txn("{")));
}
