#include "agent/fetch/fetch_codec.h"

#include <catch2/catch.hpp>
#include <string>

using corral::agent::fetch::AgentRequest;
using corral::agent::fetch::AgentResponse;
using corral::agent::fetch::decode_request;
using corral::agent::fetch::decode_response;
using corral::agent::fetch::encode_request;
using corral::agent::fetch::encode_response;
using corral::agent::fetch::FetchErrorCode;
using corral::agent::fetch::FetchReply;
using corral::agent::fetch::FetchRequest;
using corral::agent::fetch::kMaxRequestBytes;
using corral::agent::fetch::StreamInfo;
using corral::agent::fetch::StreamsReply;
using corral::agent::fetch::StreamsRequest;
using corral::agent::fetch::validate;

namespace {

FetchRequest sample_request() {
  FetchRequest r;
  r.id = 42;
  r.stream = "web/access";
  r.file = "803-1c0a55-100-9f2c41aa07d3e115";
  r.offset = 1 << 20;
  r.committed_file = "803-1c0a54-100-0000000000000001";
  r.committed_offset = 77;
  r.max_bytes = 65536;
  return r;
}

}  // namespace

TEST_CASE("a fetch request survives encode and decode", "[codec]") {
  const FetchRequest in = sample_request();
  auto out = decode_request(encode_request(AgentRequest(in)));
  REQUIRE(out.ok());
  const auto* r = std::get_if<FetchRequest>(&out.value());
  REQUIRE(r != nullptr);
  CHECK(r->id == in.id);
  CHECK(r->stream == in.stream);
  CHECK(r->file == in.file);
  CHECK(r->offset == in.offset);
  CHECK(r->committed_file == in.committed_file);
  CHECK(r->committed_offset == in.committed_offset);
  CHECK(r->max_bytes == in.max_bytes);
}

TEST_CASE("fetch and streams answers survive encode and decode", "[codec]") {
  FetchReply in;
  in.id = 7;
  in.error = FetchErrorCode::kUnknownFile;
  in.message = "gone";
  in.file = "a";
  in.offset = 3;
  in.data = std::string("x\0y\n", 4);
  in.next_file = "b";
  in.next_offset = 9;
  in.end_bytes = 1234;
  auto out = decode_response(encode_response(AgentResponse(in)));
  REQUIRE(out.ok());
  const auto* r = std::get_if<FetchReply>(&out.value());
  REQUIRE(r != nullptr);
  CHECK(r->id == 7);
  CHECK(r->error == FetchErrorCode::kUnknownFile);
  CHECK(r->message == "gone");
  CHECK(r->file == "a");
  CHECK(r->offset == 3);
  CHECK(r->data == in.data);
  CHECK(r->next_file == "b");
  CHECK(r->next_offset == 9);
  CHECK(r->end_bytes == 1234);

  StreamsReply streams{5, {StreamInfo{"web/access", {"/var/log/a*.log"}, 3, 99}}};
  auto decoded = decode_response(encode_response(AgentResponse(streams)));
  REQUIRE(decoded.ok());
  const auto* s = std::get_if<StreamsReply>(&decoded.value());
  REQUIRE(s != nullptr);
  CHECK(s->id == 5);
  REQUIRE(s->streams.size() == 1);
  CHECK(s->streams[0].name == "web/access");
  CHECK(s->streams[0].paths == std::vector<std::string>{"/var/log/a*.log"});
  CHECK(s->streams[0].files == 3);
  CHECK(s->streams[0].retained_bytes == 99);

  auto req = decode_request(encode_request(AgentRequest(StreamsRequest{11})));
  REQUIRE(req.ok());
  REQUIRE(std::holds_alternative<StreamsRequest>(req.value()));
  CHECK(std::get<StreamsRequest>(req.value()).id == 11);
}

TEST_CASE("garbage bytes decode to typed errors, never a crash", "[codec]") {
  for (const std::string& garbage :
       {std::string(), std::string("abc"), std::string(8, '\xff'), std::string(64, '\x01'),
        std::string(24, '\0') + std::string(40, '\x7f')}) {
    auto req = decode_request(garbage);
    if (!req.ok()) CHECK(req.error().code == FetchErrorCode::kBadRequest);
    auto resp = decode_response(garbage);
    if (!resp.ok()) CHECK(resp.error().code == FetchErrorCode::kBadResponse);
  }
  CHECK(decode_request("abc").error().code == FetchErrorCode::kBadRequest);
  CHECK(decode_request(std::string(kMaxRequestBytes + 8, '\0')).error().code ==
        FetchErrorCode::kTooLarge);
  // A truncated real message: its pointers run past the end.
  const std::string whole = encode_request(AgentRequest(sample_request()));
  auto cut = decode_request(whole.substr(0, whole.size() - 16));
  CHECK_FALSE(cut.ok());
}

TEST_CASE("validate enforces the protocol's bounds", "[codec]") {
  CHECK(validate(sample_request()).ok());
  FetchRequest r = sample_request();
  r.id = 0;
  CHECK(validate(r).error().code == FetchErrorCode::kBadRequest);
  r = sample_request();
  r.stream.clear();
  CHECK_FALSE(validate(r).ok());
  r = sample_request();
  r.file = std::string(129, 'f');
  CHECK_FALSE(validate(r).ok());
  r = sample_request();
  r.committed_file = std::string(129, 'f');
  CHECK_FALSE(validate(r).ok());
  r = sample_request();
  r.max_bytes = 0;
  CHECK_FALSE(validate(r).ok());
}
