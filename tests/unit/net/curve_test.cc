#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/net/zmq_client_connection.h"
#include "coordinator/net/zmq_client_listener.h"
#include "coordinator/net/zmq_peer_transport.h"
#include "coordinator/net/socket_options.h"
#include "tests/unit/net/test_wait.h"

using corral::ErrorCode;
using namespace corral::net;
using corral::net::testing::kTestDeadline;
using corral::net::testing::wait_readable;
using corral::net::testing::wait_until;

TEST_CASE("curve: encrypted peer links", "[net][curve]") {
  if (!curve_available()) {
    WARN("libzmq without CURVE: skipped");
    CHECK(generate_curve_keypair().error().code == ErrorCode::kUnavailable);
    return;
  }
  zmq::context_t ctx(1);
  auto key1 = generate_curve_keypair();
  auto key2 = generate_curve_keypair();
  REQUIRE(key1.ok());
  REQUIRE(key2.ok());
  CHECK(key1->public_key.size() == kCurveKeyZ85Chars);
  CHECK(key1->public_key != key2->public_key);

  PeerTransportOptions o1;
  o1.self_id = 1;
  o1.bind_endpoint = "tcp://127.0.0.1:0";
  o1.curve = *key1;
  PeerTransportOptions o2 = o1;
  o2.self_id = 2;
  o2.curve = *key2;
  auto a = std::move(ZmqPeerTransport::create(ctx, o1)).value();
  auto b = std::move(ZmqPeerTransport::create(ctx, o2)).value();
  // CURVE on: a peer's public key is required and must be well formed.
  CHECK(a->add_peer(2, b->bound_endpoint().to_zmq()).error().code == ErrorCode::kBadRequest);
  CHECK(a->add_peer(2, b->bound_endpoint().to_zmq(), "short").error().code ==
        ErrorCode::kBadRequest);
  REQUIRE(a->add_peer(2, b->bound_endpoint().to_zmq(), key2->public_key).ok());

  std::vector<PeerMessage> got;
  CHECK(wait_until([&] {
    a->send(2, "secret");
    wait_readable(b->inbound_socket(), std::chrono::milliseconds(10));
    b->receive(16, got);
    return !got.empty();
  }));
  REQUIRE_FALSE(got.empty());
  CHECK(got[0].from == 1);
  CHECK(got[0].bytes == "secret");
}

TEST_CASE("curve: a client needs the server's public key", "[net][curve]") {
  if (!curve_available()) {
    WARN("libzmq without CURVE: skipped");
    return;
  }
  zmq::context_t ctx(1);
  const CurveKeyPair server = *generate_curve_keypair();
  const CurveKeyPair client_keys = *generate_curve_keypair();
  const CurveKeyPair impostor = *generate_curve_keypair();
  ClientListenerOptions lo;
  lo.bind_endpoint = "tcp://127.0.0.1:0";
  lo.curve = CurveServerKeys{server};
  auto listener = std::move(ZmqClientListener::create(ctx, lo)).value();

  ClientConnectionOptions good;
  good.endpoint = listener->bound_endpoint().to_zmq();
  good.curve = CurveClientKeys{client_keys, server.public_key};
  auto client = std::move(ZmqClientConnection::create(ctx, good)).value();
  ClientConnectionOptions wrong = good;
  wrong.curve = CurveClientKeys{client_keys, impostor.public_key};
  auto lost = std::move(ZmqClientConnection::create(ctx, wrong)).value();
  ClientConnectionOptions plain = good;
  plain.curve.reset();
  auto plaintext = std::move(ZmqClientConnection::create(ctx, plain)).value();

  REQUIRE(lost->send("from wrong key") == ClientSendResult::kSent);  // queued, never delivered
  REQUIRE(plaintext->send("from plaintext") == ClientSendResult::kSent);
  REQUIRE(client->send("hello") == ClientSendResult::kSent);
  std::vector<ClientRequest> requests;
  CHECK(wait_until([&] {
    wait_readable(listener->socket(), std::chrono::milliseconds(10));
    listener->receive(16, requests);
    return !requests.empty();
  }));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].payload == "hello");
  REQUIRE(listener->send(requests[0].connection, "welcome") == ClientSendResult::kSent);
  auto reply = client->receive(kTestDeadline);
  REQUIRE(reply.ok());
  CHECK(*reply == "welcome");
  // By now the other two had as long to connect: still nothing from them.
  std::vector<ClientRequest> more;
  listener->receive(16, more);
  CHECK(more.empty());

  ClientConnectionOptions bad_key = good;
  bad_key.curve->server_public_key = "not 40 characters";
  CHECK(ZmqClientConnection::create(ctx, bad_key).error().code == ErrorCode::kBadRequest);
}
