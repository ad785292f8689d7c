// The client wire on plain TCP: TcpClientListener and TcpClientConnection,
// driven on the test's own thread (as the node loop and the client's I/O
// thread drive them), and raw sockets where a client misbehaves.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/net/client_listener.h"
#include "coordinator/net/poller.h"
#include "coordinator/net/tcp_client_connection.h"
#include "coordinator/net/tcp_client_listener.h"
#include "tests/unit/net/test_wait.h"

using corral::ErrorCode;
using corral::net::ClientConnectionOptions;
using corral::net::ClientListenerOptions;
using corral::net::ClientRequest;
using corral::net::ClientSendResult;
using corral::net::ClientWire;
using corral::net::ConnectionEvent;
using corral::net::ConnectionId;
using corral::net::TcpClientConnection;
using corral::net::TcpClientListener;
using corral::net::testing::wait_until;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::unique_ptr<TcpClientListener> make_listener(ClientListenerOptions o = {}, uint16_t port = 0) {
  o.bind_endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  auto l = TcpClientListener::create(o);
  REQUIRE(l.ok());
  return std::move(l).value();
}

std::unique_ptr<TcpClientConnection> make_connection(uint16_t port, ClientConnectionOptions o = {}) {
  o.endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  auto c = TcpClientConnection::create(o);
  REQUIRE(c.ok());
  return std::move(c).value();
}

std::string frame(const std::string& payload, uint32_t length) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(length >> 24);
  out[1] = static_cast<char>(length >> 16);
  out[2] = static_cast<char>(length >> 8);
  out[3] = static_cast<char>(length);
  return out + payload;
}
std::string frame(const std::string& payload) { return frame(payload, static_cast<uint32_t>(payload.size())); }

// A blocking raw client socket (a client that misbehaves: never reads,
// sends a huge length prefix).
int raw_connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

void raw_send(int fd, const std::string& bytes) {
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

// Whether the far side closed `fd` (read sees end of stream or a reset).
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN);
}

// Receives until `want` requests arrived (or the deadline), answering each
// with "re:" + its payload.
std::vector<ClientRequest> serve(TcpClientListener& l, size_t want, const std::function<void()>& also = {}) {
  std::vector<ClientRequest> got;
  wait_until([&] {
    std::vector<ClientRequest> in;
    l.receive(512, in);
    for (auto& r : in) {
      CHECK(l.send(r.connection, "re:" + r.payload) == ClientSendResult::kSent);
      got.push_back(std::move(r));
    }
    if (also) also();
    return got.size() >= want;
  });
  return got;
}

uint16_t free_port() {
  auto l = make_listener();
  return l->bound_endpoint().port;  // closed again when `l` goes
}

}  // namespace

TEST_CASE("tcp client wire: pipelined requests, replies routed to their connection", "[net][client][tcp]") {
  auto listener = make_listener();
  const uint16_t port = listener->bound_endpoint().port;
  constexpr int kConns = 4;
  constexpr int kRequests = 300;
  std::vector<std::unique_ptr<TcpClientConnection>> conns;
  for (int c = 0; c < kConns; ++c) conns.push_back(make_connection(port));
  // Sent before any connection is up: they wait, then go in order.
  for (int k = 0; k < kRequests; ++k) {
    for (int c = 0; c < kConns; ++c) {
      REQUIRE(conns[c]->send(std::to_string(c) + "/" + std::to_string(k)) == ClientSendResult::kSent);
    }
  }
  std::vector<std::vector<std::string>> replies(kConns);
  const auto got = serve(*listener, kConns * kRequests, [&] {
    for (int c = 0; c < kConns; ++c) {
      while (auto r = conns[c]->try_receive()) replies[c].push_back(*r);
    }
  });
  REQUIRE(got.size() == kConns * kRequests);
  CHECK(listener->connections() == kConns);
  REQUIRE(wait_until([&] {
    size_t all = 0;
    for (int c = 0; c < kConns; ++c) {
      while (auto r = conns[c]->try_receive()) replies[c].push_back(*r);
      all += replies[c].size();
    }
    return all == kConns * kRequests;
  }));
  for (int c = 0; c < kConns; ++c) {
    REQUIRE(replies[c].size() == kRequests);
    for (int k = 0; k < kRequests; ++k) CHECK(replies[c][k] == "re:" + std::to_string(c) + "/" + std::to_string(k));
  }
  CHECK(listener->stats().received == kConns * kRequests);
}

TEST_CASE("tcp client wire: a closed connection is forgotten, kGone after, serials never reused",
          "[net][client][tcp]") {
  auto listener = make_listener();
  auto conn = make_connection(listener->bound_endpoint().port);
  REQUIRE(conn->send("hello") == ClientSendResult::kSent);
  const auto got = serve(*listener, 1, [&] { conn->pump(Clock::now()); });
  REQUIRE(got.size() == 1);
  const ConnectionId first = got[0].connection;
  conn.reset();
  REQUIRE(wait_until([&] {
    std::vector<ClientRequest> in;
    listener->receive(16, in);
    return listener->connections() == 0;
  }));
  CHECK(listener->send(first, "late") == ClientSendResult::kGone);
  std::string bytes = "late";
  auto queued = std::make_shared<std::atomic<int64_t>>(0);
  CHECK(listener->send_counted(first, bytes, queued) == ClientSendResult::kGone);
  CHECK(bytes == "late");  // left to the caller
  CHECK(listener->send(ConnectionId{"unknown"}, "x") == ClientSendResult::kGone);
  auto again = make_connection(listener->bound_endpoint().port);
  REQUIRE(again->send("again") == ClientSendResult::kSent);
  const auto second = serve(*listener, 1, [&] { again->pump(Clock::now()); });
  REQUIRE(second.size() == 1);
  CHECK(second[0].connection != first);
}

TEST_CASE("tcp client wire: a client that never reads is held by its bounds", "[net][client][tcp]") {
  ClientListenerOptions o;
  o.max_queued_replies_per_connection = 1000;
  o.max_queued_reply_bytes_per_connection = 1 << 20;
  auto listener = make_listener(o);
  const int fd = raw_connect(listener->bound_endpoint().port);
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  raw_send(fd, frame("req"));
  const auto got = serve(*listener, 1);
  REQUIRE(got.size() == 1);
  const ConnectionId id = got[0].connection;
  // Counted replies fill the kernel's buffers, then the connection's queue,
  // then are refused: the member's memory for it stops growing.
  auto queued = std::make_shared<std::atomic<int64_t>>(0);
  const std::string reply(16 << 10, 'r');
  int sent = 0;
  ClientSendResult last = ClientSendResult::kSent;
  for (int i = 0; i < 100000 && last == ClientSendResult::kSent; ++i) {
    std::string bytes = reply;
    last = listener->send_counted(id, bytes, queued);
    if (last == ClientSendResult::kSent) {
      ++sent;
    } else {
      CHECK(bytes == reply);  // a refused reply stays the caller's
    }
  }
  CHECK(last == ClientSendResult::kBackpressure);
  CHECK(sent < 100000);
  // Held: at most the byte bound plus the one frame that crossed it.
  CHECK(queued->load() > 0);
  CHECK(queued->load() <= (1 << 20) + static_cast<int64_t>(reply.size()));
  CHECK(listener->queued_bytes_total() >= queued->load());
  CHECK(listener->queued_bytes_total() <= (1 << 20) + 2 * static_cast<int64_t>(reply.size()));
  // Still refused later, with no reader: nothing more is taken.
  std::vector<ClientRequest> in;
  listener->receive(16, in);
  std::string more = reply;
  CHECK(listener->send_counted(id, more, queued) == ClientSendResult::kBackpressure);
  // The client goes: what was held is dropped and uncounted, and the
  // connection is forgotten.
  ::close(fd);
  REQUIRE(wait_until([&] {
    listener->receive(16, in);
    return listener->connections() == 0;
  }));
  CHECK(queued->load() == 0);
  CHECK(listener->queued_bytes_total() == 0);
  CHECK(listener->send(id, "x") == ClientSendResult::kGone);
}

TEST_CASE("tcp client wire: a request past max_request_bytes closes its connection, past max_kept only its head is kept",
          "[net][client][tcp]") {
  ClientListenerOptions o;
  o.max_request_bytes = 64 << 10;
  o.max_kept_request_bytes = 8 << 10;
  auto listener = make_listener(o);
  const uint16_t port = listener->bound_endpoint().port;
  const int fd = raw_connect(port);
  const std::string big(20 << 10, 'b');
  raw_send(fd, frame(big));
  auto got = serve(*listener, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].cut());
  CHECK(got[0].wire_bytes == big.size());
  CHECK(got[0].payload == big.substr(0, corral::net::kKeptPrefixBytes));
  // A length prefix past the bound: the connection is closed, nothing delivered.
  const int liar = raw_connect(port);
  raw_send(liar, frame("x", (64 << 10) + 1));
  std::vector<ClientRequest> in;
  REQUIRE(wait_until([&] {
    listener->receive(16, in);
    return closed_by_peer(liar);
  }));
  CHECK(in.empty());
  CHECK(listener->stats().dropped_malformed == 1);
  // The first connection is untouched.
  raw_send(fd, frame("small"));
  got = serve(*listener, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "small");
  ::close(fd);
  ::close(liar);
}

TEST_CASE("tcp client wire: thousands of connections opened and closed", "[net][client][tcp]") {
  constexpr int kConns = 2000;
  auto listener = make_listener();
  const uint16_t port = listener->bound_endpoint().port;
  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) {
    fds.push_back(raw_connect(port));
    raw_send(fds.back(), frame("c" + std::to_string(i)));
    if (i % 100 == 99) {
      std::vector<ClientRequest> in;
      listener->receive(0, in);  // accepts (the backlog is bounded)
    }
  }
  const auto got = serve(*listener, kConns);
  REQUIRE(got.size() == kConns);
  CHECK(listener->connections() == kConns);
  // Every reply reaches its own connection.
  for (int i = 0; i < kConns; i += 97) {
    char buf[64];
    const std::string want = frame("re:c" + std::to_string(i));
    REQUIRE(::recv(fds[i], buf, want.size(), MSG_WAITALL) == static_cast<ssize_t>(want.size()));
    CHECK(std::string(buf, want.size()) == want);
  }
  for (int fd : fds) ::close(fd);
  std::vector<ClientRequest> in;
  REQUIRE(wait_until([&] {
    listener->receive(512, in);
    return listener->connections() == 0;
  }));
  CHECK(in.empty());
}

TEST_CASE("tcp client wire: connections past max_connections are closed at once", "[net][client][tcp]") {
  ClientListenerOptions o;
  o.max_connections = 3;
  auto listener = make_listener(o);
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(raw_connect(listener->bound_endpoint().port));
  std::vector<ClientRequest> in;
  REQUIRE(wait_until([&] {
    listener->receive(16, in);
    return closed_by_peer(fds[3]) && closed_by_peer(fds[4]);
  }));
  CHECK(listener->connections() == 3);
  for (int fd : fds) ::close(fd);
}

TEST_CASE("tcp client wire: a connection refused, then reconnected, requests wait for it", "[net][client][tcp]") {
  const uint16_t port = free_port();
  ClientConnectionOptions co;
  co.reconnect_interval_ms = 20;
  co.reconnect_interval_max_ms = 40;
  auto conn = make_connection(port, co);
  REQUIRE(conn->send("early") == ClientSendResult::kSent);
  std::vector<ConnectionEvent> events;
  REQUIRE(wait_until([&] {
    conn->pump(Clock::now());
    for (auto e : conn->take_events()) events.push_back(e);
    return !events.empty();
  }));
  CHECK(events[0] == ConnectionEvent::kRefused);
  CHECK_FALSE(conn->up());
  // A member comes up on the port: the connection is made and the request goes.
  auto listener = make_listener({}, port);
  auto got = serve(*listener, 1, [&] { conn->pump(Clock::now()); });
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "early");
  REQUIRE(wait_until([&] { return conn->try_receive() == std::optional<std::string>("re:early"); }));
  CHECK(conn->up());
  // It goes away: closed; comes back: connected again.
  listener.reset();
  events.clear();
  REQUIRE(wait_until([&] {
    conn->pump(Clock::now());
    for (auto e : conn->take_events()) events.push_back(e);
    return !conn->up();
  }));
  REQUIRE(!events.empty());
  CHECK(std::find(events.begin(), events.end(), ConnectionEvent::kClosed) != events.end());
  listener = make_listener({}, port);
  REQUIRE(conn->send("later") == ClientSendResult::kSent);
  got = serve(*listener, 1, [&] { conn->pump(Clock::now()); });
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "later");
}

TEST_CASE("tcp client wire: requests queued while connecting are bounded", "[net][client][tcp]") {
  ClientConnectionOptions co;
  co.max_queued_requests = 5;
  auto conn = make_connection(free_port(), co);
  for (int i = 0; i < 5; ++i) CHECK(conn->send("r") == ClientSendResult::kSent);
  CHECK(conn->send("r") == ClientSendResult::kBackpressure);
}

TEST_CASE("tcp client wire: heartbeats keep a live member's connection, a silent one is dropped",
          "[net][client][tcp]") {
  ClientConnectionOptions co;
  co.heartbeat_interval_ms = 30;
  co.heartbeat_timeout_ms = 100;
  // A listener that answers heartbeats (its receive does).
  auto listener = make_listener();
  auto live = make_connection(listener->bound_endpoint().port, co);
  REQUIRE(wait_until([&] {
    live->pump(Clock::now());
    std::vector<ClientRequest> in;
    listener->receive(16, in);
    return live->up();
  }));
  const auto until = Clock::now() + milliseconds(400);
  wait_until([&] {
    live->pump(Clock::now());
    std::vector<ClientRequest> in;
    listener->receive(16, in);
    CHECK(in.empty());  // heartbeats are never delivered
    return Clock::now() >= until;
  });
  CHECK(live->up());
  auto events = live->take_events();
  CHECK(std::count(events.begin(), events.end(), ConnectionEvent::kClosed) == 0);
  // A socket that accepts (the kernel does) and never answers: dropped.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(silent, 4) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  auto hung = make_connection(ntohs(addr.sin_port), co);
  std::vector<ConnectionEvent> seen;
  REQUIRE(wait_until([&] {
    hung->pump(Clock::now());
    for (auto e : hung->take_events()) seen.push_back(e);
    return std::find(seen.begin(), seen.end(), ConnectionEvent::kClosed) != seen.end();
  }));
  CHECK(seen.front() == ConnectionEvent::kConnected);
  ::close(silent);
}

TEST_CASE("tcp client wire: the listener closes a client that sends nothing, keeps a watcher that only receives",
          "[net][client][tcp]") {
  ClientListenerOptions o;
  o.silence_timeout_ms = 300;
  auto listener = make_listener(o);
  ClientConnectionOptions co;
  co.heartbeat_interval_ms = 50;
  co.heartbeat_timeout_ms = 1000;
  auto watcher = make_connection(listener->bound_endpoint().port, co);
  const int silent = raw_connect(listener->bound_endpoint().port);  // a vanished host looks like this
  // The watcher asks once, then only receives: an event every turn, so
  // something always came (a client that pinged only when nothing came
  // would fall silent to the member).
  REQUIRE(watcher->send("watch") == ClientSendResult::kSent);
  std::optional<ConnectionId> watch_conn;
  size_t events = 0;
  const auto turn = [&] {
    watcher->pump(Clock::now());
    std::vector<ClientRequest> in;
    listener->receive(16, in);
    for (auto& r : in) watch_conn = r.connection;
    if (watch_conn) (void)listener->send(*watch_conn, "event");
    listener->maintain(Clock::now());
    while (watcher->try_receive()) ++events;
  };
  REQUIRE(wait_until([&] {
    turn();
    return watch_conn.has_value() && listener->connections() == 2;
  }));
  // Once a second the listener looks for silent connections: the raw one goes.
  REQUIRE(wait_until([&] {
    turn();
    return closed_by_peer(silent);
  }));
  CHECK(listener->stats().closed_silent == 1);
  const auto until = Clock::now() + milliseconds(1500);  // past one more check
  wait_until([&] {
    turn();
    return Clock::now() >= until;
  });
  CHECK(events > 10);
  CHECK(watcher->up());
  CHECK(listener->connections() == 1);
  CHECK(listener->stats().closed_silent == 1);
  ::close(silent);
}

TEST_CASE("tcp client wire: options", "[net][client][tcp]") {
  zmq::context_t ctx(1);
  ClientListenerOptions o;
  o.bind_endpoint = "tcp://127.0.0.1:0";
  o.wire = ClientWire::kTcp;
  o.curve = corral::net::CurveServerKeys{};
  CHECK(corral::net::ClientListener::create(ctx, o).error().code == ErrorCode::kBadRequest);
  o.curve.reset();
  o.max_connections = 0;
  CHECK(corral::net::ClientListener::create(ctx, o).error().code == ErrorCode::kBadRequest);
  o.max_connections = 10;
  o.silence_timeout_ms = 0;
  CHECK(corral::net::ClientListener::create(ctx, o).error().code == ErrorCode::kBadRequest);
  o.silence_timeout_ms = 1000;
  auto l = corral::net::ClientListener::create(ctx, o);
  REQUIRE(l.ok());
  CHECK(l.value()->wire() == ClientWire::kTcp);
  ClientListenerOptions clash;
  clash.bind_endpoint = l.value()->bound_endpoint().to_zmq();
  clash.wire = ClientWire::kTcp;
  CHECK(corral::net::ClientListener::create(ctx, clash).error().code == ErrorCode::kUnavailable);
  ClientConnectionOptions co;
  co.endpoint = "tcp://127.0.0.1:1";
  co.heartbeat_timeout_ms = 1;
  co.heartbeat_interval_ms = 2;
  CHECK(corral::net::ClientConnection::create(ctx, co).error().code == ErrorCode::kBadRequest);
  CHECK(corral::net::resolve_client_wire(ClientWire::kAuto, false) == ClientWire::kTcp);
  CHECK(corral::net::resolve_client_wire(ClientWire::kAuto, true) == ClientWire::kZmq);
  CHECK(corral::net::parse_client_wire("udp").error().code == ErrorCode::kBadRequest);
  CHECK(*corral::net::parse_client_wire("zmq") == ClientWire::kZmq);
  CHECK(corral::net::tcp_connection_serial(corral::net::tcp_connection_id(77)) == 77);
}

TEST_CASE("tcp client wire: replies held during a turn leave at release, in order, within the bounds",
          "[net][client][tcp]") {
  ClientListenerOptions o;
  o.max_queued_replies_per_connection = 10;
  auto listener = make_listener(o);
  const int fd = raw_connect(listener->bound_endpoint().port);
  raw_send(fd, frame("req"));
  const auto got = serve(*listener, 1);
  REQUIRE(got.size() == 1);
  std::string first = frame("re:req");
  std::string buf(first.size(), '\0');
  REQUIRE(::recv(fd, buf.data(), buf.size(), MSG_WAITALL) == static_cast<ssize_t>(buf.size()));
  listener->hold_writes();
  for (int i = 0; i < 10; ++i) CHECK(listener->send(got[0].connection, "r" + std::to_string(i)) == ClientSendResult::kSent);
  // Held: the eleventh is past the count bound, and nothing left yet.
  CHECK(listener->send(got[0].connection, "over") == ClientSendResult::kBackpressure);
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 50) == 0);
  listener->release_writes();
  std::string want;
  for (int i = 0; i < 10; ++i) want += frame("r" + std::to_string(i));
  std::string all(want.size(), '\0');
  REQUIRE(::recv(fd, all.data(), all.size(), MSG_WAITALL) == static_cast<ssize_t>(all.size()));
  CHECK(all == want);
  CHECK(listener->queued_bytes_total() == 0);
  // Not held: a reply is written at once.
  CHECK(listener->send(got[0].connection, "now") == ClientSendResult::kSent);
  CHECK(::poll(&p, 1, 1000) == 1);
  ::close(fd);
}

TEST_CASE("tcp client wire: out of file descriptors, accepting pauses instead of spinning, then resumes",
          "[net][client][tcp]") {
  auto listener = make_listener();
  auto poller = std::move(corral::net::Poller::create()).value();
  const size_t slot = listener->watch_with(*poller);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(raw_connect(listener->bound_endpoint().port));
  // No descriptor left for accept: the next one would be past the limit.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const int probe = ::dup(0);
  REQUIRE(probe >= 0);
  ::close(probe);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(probe);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  std::vector<ClientRequest> in;
  listener->receive(16, in);
  CHECK(listener->connections() == 0);
  // Paused: the pending connections no longer make the listener readable.
  poller->drained(slot);
  auto polled = poller->wait(milliseconds(0));
  REQUIRE(polled.ok());
  CHECK(std::find(polled->readable.begin(), polled->readable.end(), slot) == polled->readable.end());
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  listener->maintain(Clock::now());  // too early: still paused
  polled = poller->wait(milliseconds(0));
  CHECK(std::find(polled->readable.begin(), polled->readable.end(), slot) == polled->readable.end());
  listener->maintain(Clock::now() + milliseconds(corral::net::kAcceptPauseMs));
  REQUIRE(wait_until([&] {
    listener->receive(16, in);
    return listener->connections() == 3;
  }));
  for (int fd : fds) ::close(fd);
}
