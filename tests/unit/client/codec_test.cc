#include "client/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <catch2/catch.hpp>

#include "schema/api.capnp.h"
#include "schema/data_bytes.h"

namespace api = corral::schema::api;
using namespace corral::client;

namespace {

std::string bytes_of(capnp::MessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  auto b = words.asBytes();
  return std::string(reinterpret_cast<const char*>(b.begin()), b.size());
}

std::string str(capnp::Data::Reader d) { return corral::schema::as_string(d); }

capnp::Data::Reader data(const std::string& s) { return corral::schema::as_data(s); }

// Decodes an encoded request with Cap'n Proto directly, as the member would.
struct Decoded {
  explicit Decoded(const std::string& bytes)
      : words(kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word))) {
    memcpy(words.begin(), bytes.data(), bytes.size());
    reader = std::make_unique<capnp::FlatArrayMessageReader>(words.asPtr());
  }
  api::Request::Reader root() { return reader->getRoot<api::Request>(); }
  kj::Array<capnp::word> words;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
};

}  // namespace

TEST_CASE("range request encodes every field and the id") {
  RangeRequest r;
  r.key = std::string("a\0b", 3);
  r.range_end = prefix_range_end("a");
  r.limit = 7;
  r.revision = 42;
  r.keys_only = true;
  r.serializable = true;
  Result<std::string> bytes = encode_request(99, r);
  REQUIRE(bytes.ok());
  Decoded d(bytes.value());
  auto req = d.root();
  CHECK(req.getId() == 99);
  REQUIRE(req.which() == api::Request::RANGE);
  auto range = req.getRange();
  CHECK(str(range.getKey()) == std::string("a\0b", 3));
  CHECK(str(range.getRangeEnd()) == "b");
  CHECK(range.getLimit() == 7);
  CHECK(range.getRevision() == 42);
  CHECK(range.getKeysOnly());
  CHECK_FALSE(range.getCountOnly());
  CHECK(range.getSerializable());
}

TEST_CASE("put, lease and member requests encode their fields") {
  PutRequest p;
  p.key = "k";
  p.value = std::string(1000, 'v');
  p.lease = 77;
  p.prev_kv = true;
  Decoded d(encode_request(1, p).value());
  REQUIRE(d.root().which() == api::Request::PUT);
  CHECK(str(d.root().getPut().getValue()) == std::string(1000, 'v'));
  CHECK(d.root().getPut().getLease() == 77);
  CHECK(d.root().getPut().getPrevKv());

  Decoded g(encode_request(2, LeaseGrantRequest{30, 0, {}}).value());
  REQUIRE(g.root().which() == api::Request::LEASE_GRANT);
  CHECK(g.root().getLeaseGrant().getTtl() == 30);
  CHECK(g.root().getLeaseGrant().getPuts().size() == 0);

  Decoded gk(encode_request(2, LeaseGrantRequest{10, 0, {{"/agents/a", "up"}, {"/agents/b", "down"}}}).value());
  auto puts = gk.root().getLeaseGrant().getPuts();
  REQUIRE(puts.size() == 2);
  CHECK(str(puts[0].getKey()) == "/agents/a");
  CHECK(str(puts[1].getValue()) == "down");

  MemberAddRequest m;
  m.name = "n4";
  m.peer_urls = {"tcp://127.0.0.1:2480", "tcp://127.0.0.1:2481"};
  m.is_learner = true;
  Decoded a(encode_request(3, m).value());
  REQUIRE(a.root().which() == api::Request::MEMBER_ADD);
  CHECK(std::string(a.root().getMemberAdd().getName().cStr()) == "n4");
  REQUIRE(a.root().getMemberAdd().getPeerUrls().size() == 2);
  CHECK(std::string(a.root().getMemberAdd().getPeerUrls()[1].cStr()) == "tcp://127.0.0.1:2481");
  CHECK(a.root().getMemberAdd().getIsLearner());
}

TEST_CASE("prefix_range_end follows etcd") {
  CHECK(prefix_range_end("/apps/") == "/apps0");
  CHECK(prefix_range_end("a\xff") == "b");
  CHECK(prefix_range_end("") == std::string(1, '\0'));
  CHECK(prefix_range_end("\xff\xff") == std::string(1, '\0'));
}

TEST_CASE("a range response decodes into kvs, count, more and header") {
  capnp::MallocMessageBuilder m;
  auto resp = m.initRoot<api::ServerMessage>().initResponse();
  resp.setId(5);
  resp.initHeader().setRevision(12);
  resp.getHeader().setMemberId(3);
  auto range = resp.initRange();
  auto kvs = range.initKvs(2);
  kvs[0].setKey(data("/a"));
  kvs[0].setValue(data("1"));
  kvs[0].setModRevision(10);
  kvs[1].setKey(data("/b"));
  kvs[1].setLease(9);
  range.setCount(5);
  range.setMore(true);
  Result<ServerMessage> msg = decode_server_message(bytes_of(m));
  REQUIRE(msg.ok());
  auto* r = std::get_if<ResponseMessage>(&msg.value());
  REQUIRE(r != nullptr);
  CHECK(r->id == 5);
  CHECK_FALSE(r->is_error());
  auto* range_result = std::get_if<RangeResult>(&r->body);
  REQUIRE(range_result != nullptr);
  CHECK(range_result->header.revision == 12);
  CHECK(range_result->header.member_id == 3);
  REQUIRE(range_result->kvs.size() == 2);
  CHECK(range_result->kvs[0].key == "/a");
  CHECK(range_result->kvs[0].value == "1");
  CHECK(range_result->kvs[0].mod_revision == 10);
  CHECK(range_result->kvs[1].lease == 9);
  CHECK(range_result->count == 5);
  CHECK(range_result->more);
  CHECK(response_matches(RangeRequest{}, r->body));
  CHECK_FALSE(response_matches(PutRequest{}, r->body));
}

TEST_CASE("wire errors map to typed client errors with hint and compact revision") {
  capnp::MallocMessageBuilder m;
  auto resp = m.initRoot<api::ServerMessage>().initResponse();
  resp.setId(8);
  auto err = resp.initError();
  err.setCode(api::ErrorCode::NOT_LEADER);
  err.setMessage("follower");
  err.setLeaderHint("tcp://127.0.0.1:2379");
  Result<ServerMessage> msg = decode_server_message(bytes_of(m));
  REQUIRE(msg.ok());
  auto& r = std::get<ResponseMessage>(msg.value());
  CHECK(r.is_error());
  CHECK(r.error.code == ErrorCode::kNotLeader);
  CHECK(r.error.leader_hint == "tcp://127.0.0.1:2379");
  CHECK(to_string(r.error).find("tcp://127.0.0.1:2379") != std::string::npos);

  capnp::MallocMessageBuilder c;
  auto cerr = c.initRoot<api::ServerMessage>().initResponse().initError();
  cerr.setCode(api::ErrorCode::COMPACTED);
  cerr.setCompactRevision(100);
  auto cr = std::get<ResponseMessage>(decode_server_message(bytes_of(c)).value());
  CHECK(cr.error.code == ErrorCode::kCompacted);
  CHECK(cr.error.compact_revision == 100);
}

TEST_CASE("every wire error code has a client code of the same name") {
  CHECK(error_code_from_wire(static_cast<uint16_t>(api::ErrorCode::OK)) == ErrorCode::kOk);
  CHECK(error_code_from_wire(static_cast<uint16_t>(api::ErrorCode::LEASE_NOT_FOUND)) ==
        ErrorCode::kLeaseNotFound);
  CHECK(error_code_from_wire(static_cast<uint16_t>(api::ErrorCode::TOO_LARGE)) ==
        ErrorCode::kTooLarge);
  CHECK(error_code_from_wire(static_cast<uint16_t>(api::ErrorCode::UNKNOWN_REQUEST)) ==
        ErrorCode::kUnknownRequest);
  CHECK(error_code_from_wire(static_cast<uint16_t>(api::ErrorCode::TIMEOUT)) ==
        ErrorCode::kTimeout);
  CHECK(error_code_from_wire(static_cast<uint16_t>(api::ErrorCode::UNAUTHENTICATED)) ==
        ErrorCode::kUnauthenticated);
  CHECK(error_code_from_wire(200) == ErrorCode::kInternal);
}

TEST_CASE("an error answer that says ok is a bad response") {
  capnp::MallocMessageBuilder m;
  m.initRoot<api::ServerMessage>().initResponse().initError().setCode(api::ErrorCode::OK);
  auto r = std::get<ResponseMessage>(decode_server_message(bytes_of(m)).value());
  CHECK(r.error.code == ErrorCode::kBadResponse);
}

TEST_CASE("watch events and controls decode") {
  capnp::MallocMessageBuilder m;
  auto w = m.initRoot<api::ServerMessage>().initWatchEvents();
  w.initHeader().setRevision(20);
  auto ids = w.initWatchIds(2);
  ids.set(0, 1);
  ids.set(1, 4);
  auto evs = w.initEvents(1);
  evs[0].setType(api::Event::Type::DELETE);
  evs[0].initKv().setKey(data("/x"));
  evs[0].getKv().setModRevision(20);
  Result<ServerMessage> msg = decode_server_message(bytes_of(m));
  REQUIRE(msg.ok());
  auto& we = std::get<WatchEventsMessage>(msg.value());
  CHECK(we.watch_ids == std::vector<int64_t>{1, 4});
  REQUIRE(we.events.size() == 1);
  CHECK(we.events[0].type == WatchEvent::Type::kDelete);
  CHECK(we.events[0].kv.mod_revision == 20);

  capnp::MallocMessageBuilder c;
  auto ctl = c.initRoot<api::ServerMessage>().initWatchControl();
  ctl.setWatchId(4);
  auto why = ctl.initCanceled();
  why.setCode(api::ErrorCode::COMPACTED);
  why.setCompactRevision(15);
  auto wc = std::get<WatchControlMessage>(decode_server_message(bytes_of(c)).value());
  CHECK(wc.watch_id == 4);
  CHECK(wc.canceled);
  CHECK(wc.cancel_reason.code == ErrorCode::kCompacted);
  CHECK(wc.cancel_reason.compact_revision == 15);
}

TEST_CASE("garbage from a member is a bad response, never a crash") {
  CHECK(decode_server_message("").error().code == ErrorCode::kBadResponse);
  CHECK(decode_server_message("abc").error().code == ErrorCode::kBadResponse);
  std::string junk(64, '\xff');
  CHECK(decode_server_message(junk).error().code == ErrorCode::kBadResponse);
  // A valid message cut short.
  capnp::MallocMessageBuilder m;
  m.initRoot<api::ServerMessage>().initResponse().initRange().initKvs(10);
  std::string whole = bytes_of(m);
  CHECK_FALSE(decode_server_message(whole.substr(0, whole.size() - 16)).ok());
  // Misaligned but valid bytes still decode (copied to aligned memory).
  std::string shifted = "x" + whole;
  CHECK(decode_server_message(std::string_view(shifted).substr(1)).ok());
}

TEST_CASE("a lease grant batch encodes each grant, decodes each outcome, and is refused past its bounds") {
  LeaseGrantBatchRequest b;
  b.grants.push_back(LeaseGrantRequest{10, 0, {{"/agents/a", "up"}}});
  b.grants.push_back(LeaseGrantRequest{20, 99, {}});
  Decoded d(encode_request(4, b).value());
  REQUIRE(d.root().which() == api::Request::LEASE_GRANT_BATCH);
  auto grants = d.root().getLeaseGrantBatch().getGrants();
  REQUIRE(grants.size() == 2);
  CHECK(grants[0].getTtl() == 10);
  CHECK(str(grants[0].getPuts()[0].getKey()) == "/agents/a");
  CHECK(grants[1].getId() == 99);

  LeaseGrantBatchRequest past;
  past.grants.resize(kMaxGrantBatchGrants + 1);
  auto refused = encode_request(5, past);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kTooLarge);

  capnp::MallocMessageBuilder m;
  auto resp = m.initRoot<api::ServerMessage>().initResponse();
  resp.setId(4);
  auto outcomes = resp.initLeaseGrantBatch().initOutcomes(2);
  outcomes[0].setId(7);
  outcomes[0].setTtl(10);
  outcomes[1].setId(99);
  outcomes[1].setError(api::ErrorCode::BAD_REQUEST);
  outcomes[1].setMessage("lease 99 already exists");
  auto msg = decode_server_message(bytes_of(m));
  REQUIRE(msg.ok());
  auto* r = std::get_if<ResponseMessage>(&msg.value());
  REQUIRE(r != nullptr);
  auto* got = std::get_if<LeaseGrantBatchResult>(&r->body);
  REQUIRE(got != nullptr);
  REQUIRE(got->outcomes.size() == 2);
  CHECK(got->outcomes[0].id == 7);
  CHECK(got->outcomes[0].error == ErrorCode::kOk);
  CHECK(got->outcomes[1].error == ErrorCode::kBadRequest);
  CHECK(got->outcomes[1].message == "lease 99 already exists");
  CHECK(response_matches(b, r->body));
}
