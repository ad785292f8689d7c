#include "agent/fetch/fetch_client.h"

#include <zmq.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/fetch/fetch_codec.h"

using corral::agent::fetch::AgentRequest;
using corral::agent::fetch::AgentResponse;
using corral::agent::fetch::decode_request;
using corral::agent::fetch::encode_response;
using corral::agent::fetch::FetchClient;
using corral::agent::fetch::FetchClientOptions;
using corral::agent::fetch::FetchCompletion;
using corral::agent::fetch::FetchErrorCode;
using corral::agent::fetch::FetchReply;
using corral::agent::fetch::FetchRequest;

namespace {

using namespace std::chrono_literals;
constexpr auto kTestDeadline = 10s;

// A ROUTER on an ephemeral loopback port that the test drives by hand.
struct FakeSource {
  explicit FakeSource(zmq::context_t& ctx) : router(ctx, zmq::socket_type::router) {
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    endpoint = router.get(zmq::sockopt::last_endpoint);
  }
  // The next request and its connection's routing id, within the deadline.
  std::pair<std::string, FetchRequest> receive() {
    zmq_pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq_poll(&item, 1, std::chrono::milliseconds(kTestDeadline).count()) == 1);
    zmq::message_t id;
    zmq::message_t payload;
    REQUIRE(router.recv(id));
    REQUIRE(router.recv(payload));
    auto decoded = decode_request(payload.to_string_view());
    REQUIRE(decoded.ok());
    REQUIRE(std::holds_alternative<FetchRequest>(decoded.value()));
    return {id.to_string(), std::get<FetchRequest>(decoded.value())};
  }
  void answer(const std::string& routing_id, const FetchReply& reply) {
    router.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
    const std::string bytes = encode_response(AgentResponse(reply));
    router.send(zmq::buffer(bytes), zmq::send_flags::none);
  }
  zmq::socket_t router;
  std::string endpoint;
};

FetchRequest request_at(uint64_t offset) {
  FetchRequest r;
  r.stream = "web/access";
  r.file = "f";
  r.offset = offset;
  r.max_bytes = 4096;
  return r;
}

std::unique_ptr<FetchClient> make_client(zmq::context_t& ctx, const std::string& endpoint,
                                         size_t max_in_flight = 16) {
  FetchClientOptions o;
  o.endpoint = endpoint;
  o.max_in_flight = max_in_flight;
  auto c = FetchClient::create(ctx, o);
  REQUIRE(c.ok());
  return std::move(c).value();
}

}  // namespace

TEST_CASE("pipelined requests are matched to answers by id, in any order", "[fetch_client]") {
  zmq::context_t ctx;
  FakeSource source(ctx);
  auto client = make_client(ctx, source.endpoint);
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 4; ++i) {
    auto id = client->submit(request_at(i * 100), 5s);
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  CHECK(client->in_flight() == 4);
  std::vector<std::pair<std::string, FetchRequest>> got;
  for (int i = 0; i < 4; ++i) got.push_back(source.receive());
  for (auto it = got.rbegin(); it != got.rend(); ++it) {  // answered backwards
    FetchReply reply;
    reply.id = it->second.id;
    reply.file = "f";
    reply.offset = it->second.offset;
    reply.data = "offset " + std::to_string(it->second.offset) + "\n";
    source.answer(it->first, reply);
  }
  std::vector<FetchCompletion> done;
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (done.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    for (auto& c : client->collect(100ms)) done.push_back(std::move(c));
  }
  REQUIRE(done.size() == 4);
  for (const FetchCompletion& c : done) {
    REQUIRE(c.reply.ok());
    const auto index = std::find(ids.begin(), ids.end(), c.id) - ids.begin();
    CHECK(c.reply->data == "offset " + std::to_string(index * 100) + "\n");
  }
  CHECK(client->in_flight() == 0);
  CHECK(client->in_flight_bytes() == 0);
}

TEST_CASE("a fetch to a source that never answers times out and reconnects", "[fetch_client]") {
  zmq::context_t ctx;
  FakeSource silent(ctx);
  auto client = make_client(ctx, silent.endpoint);
  const auto start = std::chrono::steady_clock::now();
  auto reply = client->fetch(request_at(0), 150ms);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == FetchErrorCode::kTimeout);
  CHECK(took >= 150ms);
  CHECK(took < 5s);
  CHECK(client->in_flight() == 0);
  CHECK(client->reconnects() == 1);
  // The client still works after reconnecting: the next request arrives.
  auto id = client->submit(request_at(1), 5s);
  REQUIRE(id.ok());
  bool seen = false;
  for (int i = 0; i < 2 && !seen; ++i) seen = silent.receive().second.id == *id;
  CHECK(seen);
}

TEST_CASE("an answer arriving after its timeout is dropped", "[fetch_client]") {
  zmq::context_t ctx;
  FakeSource source(ctx);
  auto client = make_client(ctx, source.endpoint);
  auto first = client->submit(request_at(0), 50ms);
  REQUIRE(first.ok());
  auto [routing, req] = source.receive();
  std::vector<FetchCompletion> done;
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (done.empty() && std::chrono::steady_clock::now() < deadline) done = client->collect(100ms);
  REQUIRE(done.size() == 1);
  CHECK(done[0].reply.error().code == FetchErrorCode::kTimeout);
  FetchReply late;
  late.id = req.id;
  late.data = "late\n";
  source.answer(routing, late);
  auto next = client->submit(request_at(5), 5s);
  REQUIRE(next.ok());
  auto [routing2, req2] = source.receive();
  FetchReply fresh;
  fresh.id = req2.id;
  fresh.data = "fresh\n";
  source.answer(routing2, fresh);
  std::vector<FetchCompletion> more;
  while (more.empty() && std::chrono::steady_clock::now() < deadline) more = client->collect(100ms);
  REQUIRE(more.size() == 1);
  CHECK(more[0].id == *next);
  REQUIRE(more[0].reply.ok());
  CHECK(more[0].reply->data == "fresh\n");
}

TEST_CASE("submits past the in-flight bound are refused with backpressure", "[fetch_client]") {
  zmq::context_t ctx;
  FakeSource source(ctx);
  auto client = make_client(ctx, source.endpoint, 2);
  CHECK(client->submit(request_at(0), 5s).ok());
  CHECK(client->submit(request_at(1), 5s).ok());
  auto third = client->submit(request_at(2), 5s);
  REQUIRE_FALSE(third.ok());
  CHECK(third.error().code == FetchErrorCode::kBackpressure);
  FetchRequest invalid = request_at(0);
  invalid.max_bytes = 0;
  auto fourth = make_client(ctx, source.endpoint)->submit(invalid, 5s);
  REQUIRE_FALSE(fourth.ok());
  CHECK(fourth.error().code == FetchErrorCode::kBadRequest);
}

TEST_CASE("bad client options are refused", "[fetch_client]") {
  zmq::context_t ctx;
  FetchClientOptions o;
  o.endpoint = "tcp://127.0.0.1:1";
  o.max_in_flight = 0;
  CHECK_FALSE(FetchClient::create(ctx, o).ok());
  o.max_in_flight = 4;
  o.endpoint = "not an endpoint";
  CHECK_FALSE(FetchClient::create(ctx, o).ok());
}
