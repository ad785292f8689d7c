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

}  // namespace

TEST_CASE("malformed and oversized requests get typed errors and the member keeps serving", "[integration][raw]") {
  ClusterOptions o;
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
  // Far past every bound: ZeroMQ drops that connection; others are unharmed.
  {
    RawConnection huge(ctx, cluster.member(0).client_url());
    huge.socket.set(zmq::sockopt::rcvtimeo, 500);
    huge.send(std::string(4 << 20, 'x'));
    (void)huge.receive();
  }
  RawConnection after(ctx, cluster.member(0).client_url());
  expect_serving(after, 3);
  auto c = cluster.client();
  auto put = c->put("/raw/still", "serving");
  INFO((put.ok() ? std::string("ok") : to_string(put.error())));
  CHECK(put.ok());
}
