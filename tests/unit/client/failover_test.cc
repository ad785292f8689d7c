// The client's trust in an endpoint (client.h): a write is handed to a
// member only once it has answered recently, so a write that may have left is
// never sent again, and a member that does not answer costs one probe.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "client/client.h"
#include "tests/unit/client/fake_member.h"

using namespace corral::client;
using namespace corral::client::testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string put_ok(uint64_t id, int64_t revision) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<api::ServerMessage>().initResponse();
  r.setId(id);
  r.initHeader().setRevision(revision);
  r.initPut();
  return flat_bytes(m);
}

std::string not_leader(uint64_t id, const std::string& hint) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<api::ServerMessage>().initResponse();
  r.setId(id);
  auto e = r.initError();
  e.setCode(api::ErrorCode::NOT_LEADER);
  e.setLeaderHint(hint);
  return flat_bytes(m);
}

std::string watch_created(uint64_t id, int64_t watch_id, int64_t revision) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<api::ServerMessage>().initResponse();
  r.setId(id);
  r.initHeader().setRevision(revision);
  r.initWatchCreate().setWatchId(watch_id);
  return flat_bytes(m);
}

std::string event(int64_t watch_id, int64_t revision) {
  capnp::MallocMessageBuilder m;
  auto w = m.initRoot<api::ServerMessage>().initWatchEvents();
  w.initWatchIds(1).set(0, watch_id);
  w.initEvents(1)[0].initKv().setModRevision(revision);
  return flat_bytes(m);
}

// A member that answers every put and counts them.
struct CountingMember {
  std::atomic<int> puts{0};
  std::atomic<bool> silent{false};  // puts counted but not answered
  FakeMember member{[this](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() != api::Request::PUT) return;
    ++puts;
    if (!silent.load()) replies.push_back(put_ok(req.getId(), 5));
  }};
};

// A TCP relay to 127.0.0.1:`target_port` whose listen queue is kept full
// (one connection nobody accepts) until open(): meanwhile a client's SYN is
// dropped, so its connection comes up only at the kernel's SYN retransmit,
// about a second after it began.
class SlowConnectRelay {
 public:
  explicit SlowConnectRelay(int target_port) : target_port_(target_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(0);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listener_, 0) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    filler_ = connect_to(port_);
    REQUIRE(filler_ >= 0);
    thread_ = std::thread([this] { run(); });
  }
  ~SlowConnectRelay() {
    stop_ = true;
    thread_.join();
    ::close(filler_);
    ::close(listener_);
  }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  void open() { open_ = true; }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }
  static int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // Waits up to 10 ms for `fd` to be readable.
  static bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 10) == 1;
  }
  void run() {
    while (!stop_ && !open_) std::this_thread::sleep_for(milliseconds(1));
    if (stop_) return;
    ::close(::accept(listener_, nullptr, nullptr));  // the filler: the queue has room again
    int client = -1;
    while (!stop_ && client < 0) {
      if (readable(listener_)) client = ::accept(listener_, nullptr, nullptr);
    }
    if (client < 0) return;
    const int target = connect_to(target_port_);
    char buf[65536];
    while (!stop_ && target >= 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {target, POLLIN, 0}};
      if (::poll(fds, 2, 10) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
        const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) closed = true;
      }
      if (closed) break;
    }
    ::close(client);
    if (target >= 0) ::close(target);
  }

  int target_port_;
  int listener_ = -1;
  int filler_ = -1;
  int port_ = 0;
  std::atomic<bool> open_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

}  // namespace

// The write is sent to a new connection (a leader hint) that comes up about
// a second later (SlowConnectRelay). The client reads at most 4096 messages
// of a connection per loop turn, so the watch event after the fillers is
// read in the next turn, by a callback that holds the I/O thread while that
// connection comes up and the write, if it was handed over, arrives. When
// the thread comes back the connect timeout has passed with the CONNECTED
// event unread: the client must not take the write for one that never left.
TEST_CASE("a write on a connection whose CONNECTED event came unseen is not sent again") {
  constexpr int kFillers = 4200;
  constexpr milliseconds kConnectTimeout{200};
  CountingMember a;
  CountingMember b;
  SlowConnectRelay relay(port_of(a.member.endpoint()));
  FakeMember first([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() == api::Request::WATCH_CREATE) {
      replies.push_back(watch_created(req.getId(), 1, 10));
      return;
    }
    if (req.which() != api::Request::PUT) return;
    replies.push_back(not_leader(req.getId(), relay.endpoint()));
    for (int i = 0; i < kFillers; ++i) replies.push_back(put_ok(1'000'000 + i, 1));
    replies.push_back(event(1, 11));
  });
  Options o;
  o.wire = test_wire();
  o.endpoints = {first.endpoint(), b.member.endpoint()};
  o.connect_timeout = kConnectTimeout;
  o.request_timeout = milliseconds(5000);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  std::atomic<bool> created{false};
  WatchOptions w;
  w.key = "/w";
  WatchHandle watch = client.value()->watch(w, [&](const WatchUpdate& u) {
    if (u.created) created = true;
    if (u.events.empty()) return;
    // Hold the I/O thread until what the client handed to the new
    // connection (the write, or a probe) reached `a`: over a second, far
    // past the connect timeout.
    relay.open();
    // (On the TCP wire nothing leaves while this thread is held: the
    // connection writes only when the I/O thread drives it. Held past the
    // relay's SYN retransmit, so the connection is up, unseen, all the same.)
    const int hold_ms = test_wire() == corral::net::ClientWire::kTcp ? 1500 : 4000;
    wait_for([&] { return a.puts.load() > 0 || a.member.probes() > 0; }, hold_ms);
  });
  REQUIRE(wait_for([&] { return created.load(); }));
  Result<PutResult> r = client.value()->put("/k", "v");
  CHECK(r.ok());
  CHECK(a.puts.load() + b.puts.load() == 1);
}

TEST_CASE("a hung first endpoint costs a write one probe, the write goes to one member only") {
  constexpr int kPuts = 20;
  std::atomic<int> hung_requests{0};
  FakeMember hung([&](api::Request::Reader, std::vector<std::string>&) { ++hung_requests; },
                  FakeMember::Probes::kIgnore);
  CountingMember live;
  Options o;
  o.wire = test_wire();
  o.endpoints = {hung.endpoint(), live.member.endpoint()};
  o.probe_timeout = milliseconds(300);
  o.request_timeout = milliseconds(3000);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  const auto start = Clock::now();
  int ok = 0;
  for (int i = 0; i < kPuts; ++i) ok += client.value()->put("/k" + std::to_string(i), "v").ok();
  CHECK(ok == kPuts);
  CHECK(hung_requests.load() == 0);  // only the probe went there
  CHECK(hung.probes() == 1);
  CHECK(live.puts.load() == kPuts);
  CHECK(Clock::now() - start < milliseconds(2000));
  CHECK(client.value()->current_endpoint() == live.member.endpoint());
}

TEST_CASE("a read on a hung endpoint moves on after the probe, not after read_attempt_timeout") {
  FakeMember hung([](api::Request::Reader, std::vector<std::string>&) {}, FakeMember::Probes::kIgnore);
  FakeMember live([](api::Request::Reader req, std::vector<std::string>& replies) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<api::ServerMessage>().initResponse();
    r.setId(req.getId());
    r.initRange().setCount(3);
    replies.push_back(flat_bytes(m));
  });
  Options o;
  o.wire = test_wire();
  o.endpoints = {hung.endpoint(), live.endpoint()};
  o.probe_timeout = milliseconds(300);
  o.read_attempt_timeout = milliseconds(10'000);
  o.request_timeout = milliseconds(5000);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  const auto start = Clock::now();
  Result<RangeResult> r = client.value()->get("/k");
  REQUIRE(r.ok());
  CHECK(r->count == 3);
  CHECK(Clock::now() - start < milliseconds(2000));
}

TEST_CASE("a write sent to a member that then goes silent is outcome unknown, never resent, the next goes elsewhere") {
  CountingMember a;
  CountingMember b;
  Options o;
  o.wire = test_wire();
  o.endpoints = {a.member.endpoint(), b.member.endpoint()};
  o.trust_window = milliseconds(100);
  o.probe_timeout = milliseconds(200);
  o.request_timeout = milliseconds(1500);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  REQUIRE(client.value()->put("/k", "1").ok());
  a.silent = true;
  a.member.set_probes(FakeMember::Probes::kIgnore);
  auto unanswered = client.value()->call_future(PutRequest{"/k", "2"});
  REQUIRE(wait_for([&] { return a.puts.load() == 2; }));
  // Past the trust window: the next write waits for a probe, which `a` leaves unanswered.
  std::this_thread::sleep_for(o.trust_window + milliseconds(50));
  Result<PutResult> next = client.value()->put("/k", "3");
  CHECK(next.ok());
  Result<PutResult> lost = unanswered.get();
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.error().code == ErrorCode::kTimeout);
  CHECK(a.puts.load() == 2);
  CHECK(b.puts.load() == 1);
}
