#include <catch2/catch.hpp>

#include "coordinator/http/key_params.h"
#include "coordinator/http/request_context.h"

using namespace corral::http;
using corral::client::Compare;

namespace {

Params params(std::string_view query, std::string_view type = "", std::string_view body = "") {
  auto p = request_params(query, type, body);
  REQUIRE(std::holds_alternative<Params>(p));
  return std::get<Params>(p);
}

HttpError params_error(std::string_view query, std::string_view type, std::string_view body) {
  auto p = request_params(query, type, body);
  REQUIRE(std::holds_alternative<HttpError>(p));
  return std::get<HttpError>(p);
}

}  // namespace

TEST_CASE("a put reads form and JSON bodies alike") {
  auto form = put_plan("/a", params("", "application/x-www-form-urlencoded", "value=V+1&ttl=10"));
  REQUIRE(std::holds_alternative<PutPlan>(form));
  CHECK(std::get<PutPlan>(form).value == "V 1");
  CHECK(std::get<PutPlan>(form).ttl == 10);
  auto json = put_plan("/a", params("", "application/json; charset=utf-8", R"({"value":"V","lease":"ab","prevExist":false})"));
  REQUIRE(std::holds_alternative<PutPlan>(json));
  CHECK(std::get<PutPlan>(json).lease == 0xab);
  CHECK(std::get<PutPlan>(json).conditions.prev_exist == false);
  auto b64 = put_plan("/a", params("valueEncoding=base64", "", "value=%2F%2F8%3D"));
  REQUIRE(std::holds_alternative<PutPlan>(b64));
  CHECK(std::get<PutPlan>(b64).value == std::string("\xff\xff", 2));
}

TEST_CASE("bad parameters are badRequest naming them") {
  CHECK(params_error("", "application/json", "{nope").code == "badRequest");
  CHECK(params_error("", "application/json", "[1]").message.find("object") != std::string::npos);
  CHECK(params_error("", "text/plain", "x").status == 415);
  auto missing = put_plan("/a", params(""));
  REQUIRE(std::holds_alternative<HttpError>(missing));
  CHECK(std::get<HttpError>(missing).message.find("value") != std::string::npos);
  auto ttl = put_plan("/a", params("value=v&ttl=-1"));
  REQUIRE(std::holds_alternative<HttpError>(ttl));
  CHECK(std::get<HttpError>(ttl).message.find("ttl") != std::string::npos);
  CHECK(std::holds_alternative<HttpError>(put_plan("/a", params("value=v&ttl=5&lease=1"))));
  CHECK(std::holds_alternative<HttpError>(put_plan("/a", params("value=v&prevExist=maybe"))));
  CHECK(std::holds_alternative<HttpError>(get_plan("/a", params("wait=true&timeout=100000"))));
  CHECK(std::holds_alternative<HttpError>(delete_plan("/", params(""))));
}

TEST_CASE("conditional puts and deletes become txns with a get on failure") {
  auto plan = std::get<PutPlan>(put_plan("/k", params("value=v&prevValue=old&prevRevision=7")));
  auto txn = put_txn(plan, 0);
  REQUIRE(txn.compare.size() == 3);
  CHECK(txn.compare[0].target == Compare::Target::kValue);
  CHECK(txn.compare[0].value == "old");
  CHECK(txn.compare[1].target == Compare::Target::kVersion);
  CHECK(txn.compare[1].op == Compare::Op::kGreater);
  CHECK(txn.compare[2].target == Compare::Target::kMod);
  CHECK(txn.compare[2].number == 7);
  REQUIRE(txn.failure.size() == 1);
  CHECK(std::holds_alternative<corral::client::RangeRequest>(txn.failure[0].op));

  auto del = std::get<DeletePlan>(delete_plan("/d", params("recursive=true")));
  auto dtxn = delete_txn(del);
  CHECK(dtxn.compare.empty());
  REQUIRE(dtxn.success.size() == 2);
  auto below = std::get<corral::client::DeleteRequest>(dtxn.success[1].op);
  CHECK(below.key == "/d/");
  CHECK(below.range_end == "/d0");
}

TEST_CASE("the Authorization header gives the token") {
  CHECK(*token_of("Bearer abc") == "abc");
  CHECK(*token_of("bearer  abc ") == "abc");
  CHECK(*token_of("abc") == "abc");
  CHECK_FALSE(token_of("  "));
}
