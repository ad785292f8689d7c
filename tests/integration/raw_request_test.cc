// Bytes that are not a valid request, sent raw on a ZeroMQ DEALER the way a
// client connects: each gets a typed error (malformed, tooLarge) and the
// member keeps serving, on the same connection and on new ones.
#include <catch2/catch.hpp>

#include <string>
#include <zmq.hpp>

#include "client/codec.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/raw_connection.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

constexpr int kMaxRequestBytes = 65536;

std::string status_request(uint64_t id) {
  auto bytes = encode_request(id, RequestBody(StatusRequest{}));
  REQUIRE(bytes.ok());
  return bytes.value();
}

void expect_error(RawConnection& conn, const std::string& bytes, ErrorCode code) {
  conn.send(bytes);
  auto r = conn.receive();
  REQUIRE(r);
  INFO("answer: " << to_string(r->error));
  CHECK(r->is_error());
  CHECK(r->error.code == code);
}

void expect_serving(RawConnection& conn, uint64_t id) {
  conn.send(status_request(id));
  auto r = conn.receive();
  REQUIRE(r);
  CHECK_FALSE(r->is_error());
  CHECK(r->id == id);
  CHECK(std::holds_alternative<StatusResult>(r->body));
}

ClusterOptions one_member() {
  ClusterOptions o;
  o.client_wire = "zmq";  // RawConnection speaks ZeroMQ
  o.members = 1;
  return o;
}

}  // namespace

TEST_CASE("malformed and oversized requests get typed errors and the member keeps serving", "[integration][raw]") {
  ClusterOptions o;
  o.client_wire = "zmq";  // RawConnection speaks ZeroMQ
  o.extra_args = {"--max-request-bytes", std::to_string(kMaxRequestBytes)};
  Cluster cluster(o);
  cluster.start();
  zmq::context_t ctx;
  for (size_t i = 0; i < cluster.size(); ++i) {
    INFO("member " << cluster.member(i).name);
    RawConnection conn(ctx, cluster.member(i).client_url());
    expect_serving(conn, 1);
    expect_error(conn, "not a capnp message", ErrorCode::kMalformed);
    expect_error(conn, std::string(64, '\xff'), ErrorCode::kMalformed);
    // A valid segment table whose root pointer points far outside the message.
    std::string bad_pointer(24, '\0');
    bad_pointer[4] = 2;                   // segment 0: 2 words
    bad_pointer[8] = '\xfc';              // struct pointer, offset far away
    bad_pointer[11] = '\x7f';
    bad_pointer[12] = 1;                  // data words
    expect_error(conn, bad_pointer, ErrorCode::kMalformed);
    // A real request padded past the member's bound (but below ZeroMQ's own
    // limit, past which the connection would be dropped without an answer).
    std::string big = status_request(7) + std::string(kMaxRequestBytes, '\0');
    expect_error(conn, big, ErrorCode::kTooLarge);
    expect_serving(conn, 2);
  }
  // Past ZeroMQ's own bound (64 MiB here): ZeroMQ drops that connection
  // unanswered (ZMTP cannot refuse one message); others are unharmed.
  {
    RawConnection huge(ctx, cluster.member(0).client_url());
    huge.socket.set(zmq::sockopt::rcvtimeo, 500);
    huge.send(std::string((64 << 20) + 8, 'x'));
    (void)huge.receive();
  }
  RawConnection after(ctx, cluster.member(0).client_url());
  expect_serving(after, 3);
  auto c = cluster.client();
  auto put = c->put("/raw/still", "serving");
  INFO((put.ok() ? std::string("ok") : to_string(put.error())));
  CHECK(put.ok());
}

// ZeroMQ's own bound on a message was 4 x --max-request-bytes (8 MiB by
// default): past it the member dropped the connection with no answer, and
// the request behind it on the connection was lost too. Now every request
// up to 64 MiB gets tooLarge by its id, and the connection keeps working.
TEST_CASE("requests far past the request bound get tooLarge and the connection keeps working",
          "[integration][raw]") {
  Cluster cluster(one_member());
  cluster.start();
  zmq::context_t ctx;
  RawConnection conn(ctx, cluster.member(0).client_url());
  expect_serving(conn, 1);
  uint64_t id = 10;
  for (size_t bytes : {size_t{3} << 20, size_t{9} << 20, size_t{40} << 20}) {
    INFO("request of " << bytes << " bytes");
    // The oversized request and one right behind it on the same connection.
    conn.send(status_request(id) + std::string(bytes, '\0'));
    conn.send(status_request(id + 1));
    auto refused = conn.receive();
    REQUIRE(refused);
    CHECK(refused->id == id);
    CHECK(refused->error.code == ErrorCode::kTooLarge);
    auto next = conn.receive();
    REQUIRE(next);
    CHECK(next->id == id + 1);
    CHECK_FALSE(next->is_error());
    id += 2;
  }
  expect_serving(conn, id);
}

TEST_CASE("a request in several ZeroMQ frames gets a typed error by its id", "[integration][raw]") {
  Cluster cluster(one_member());
  cluster.start();
  zmq::context_t ctx;
  RawConnection conn(ctx, cluster.member(0).client_url());
  const std::string first = status_request(5);
  conn.socket.send(zmq::buffer(first), zmq::send_flags::sndmore);
  conn.socket.send(zmq::str_buffer("second frame"), zmq::send_flags::sndmore);
  conn.socket.send(zmq::str_buffer("third frame"), zmq::send_flags::none);
  auto r = conn.receive();
  REQUIRE(r);
  INFO("answer: " << to_string(r->error));
  CHECK(r->id == 5);
  CHECK(r->error.code == ErrorCode::kMalformed);
  expect_serving(conn, 6);
}

// etcd refuses a txn whose branch writes a key twice ("duplicate key given
// in txn request"): the outcome would hang on the order of ops in one
// revision. Refused with badRequest, and nothing changes.
TEST_CASE("a txn that writes one key twice is refused and changes nothing", "[integration][raw]") {
  Cluster cluster(one_member());
  cluster.start();
  auto c = cluster.client();
  auto before = c->put("/txn/k", "before");
  REQUIRE(before.ok());
  auto put = [](std::string key, std::string value) {
    PutRequest p;
    p.key = std::move(key);
    p.value = std::move(value);
    return TxnOp{p};
  };
  DeleteRequest del;
  del.key = "/txn/k";
  std::vector<std::vector<TxnOp>> refused = {
      {put("/txn/k", "one"), put("/txn/k", "two")},
      {put("/txn/k", "one"), TxnOp{del}},
  };
  for (auto& ops : refused) {
    TxnRequest t;
    t.success = ops;
    auto r = c->txn(t);
    REQUIRE_FALSE(r.ok());
    INFO(to_string(r.error()));
    CHECK(r.error().code == ErrorCode::kBadRequest);
    CHECK(r.error().message.find("duplicate key") != std::string::npos);
  }
  auto after = c->get("/txn/k");
  REQUIRE(after.ok());
  REQUIRE(after->kvs.size() == 1);
  CHECK(after->kvs[0].value == "before");
  CHECK(after->header.revision == before->header.revision);
  // Then and else exclude each other: the same key in both is fine.
  TxnRequest both;
  both.success = {put("/txn/k", "then")};
  both.failure = {put("/txn/k", "else")};
  CHECK(c->txn(both).ok());
}
