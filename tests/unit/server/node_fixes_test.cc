// Regressions for corrald bugs found by the integration tests: one compact
// revision for range and watch, every member's client URLs in the member
// table, member add naming its member, and a read on a member without a
// leader answered at once.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "coordinator/server/node.h"
#include "tests/unit/server/test_client.h"
#include "tests/unit/server/test_env.h"

using namespace corral;
using namespace corral::server;
using namespace std::chrono_literals;
namespace wire = corral::schema::api;

using corral::testing::free_port;
using corral::testing::temp_dir;

namespace {

constexpr int kFastTickMs = 20;
constexpr int kMaxAttempts = 500;
constexpr auto kRetryPause = 20ms;  // back-off between retries, not synchronisation

// Three in-memory members on loopback, and a client for each.
struct Trio {
  zmq::context_t ctx{1};
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<testing::TestClient>> clients;
  std::vector<std::string> dirs;

  explicit Trio(int tick_ms) {
    std::vector<std::string> names = {"f1", "f2", "f3"};
    std::vector<int> ports;
    std::string cluster;
    for (size_t i = 0; i < names.size(); ++i) {
      ports.push_back(free_port());
      cluster += (i ? "," : "") + names[i] + "=tcp://127.0.0.1:" + std::to_string(ports[i]);
    }
    for (size_t i = 0; i < names.size(); ++i) {
      NodeOptions o;
      o.name = names[i];
      dirs.push_back(temp_dir("corral-fixes-test", names[i]));
      o.data_dir = dirs.back();
      o.listen_peer = "tcp://127.0.0.1:" + std::to_string(ports[i]);
      o.listen_client = "tcp://127.0.0.1:0";
      o.initial_cluster = cluster;
      o.tick_ms = tick_ms;
      auto n = Node::create(o);
      REQUIRE(n.ok());
      nodes.push_back(std::move(n).value());
    }
    for (auto& n : nodes) n->start();
    for (auto& n : nodes) clients.push_back(std::make_unique<testing::TestClient>(ctx, n->client_endpoint()));
  }
  ~Trio() {
    for (auto& n : nodes) if (n) n->stop();
    for (auto& d : dirs) std::filesystem::remove_all(d);
  }
  // The member that accepts a write, or -1.
  int leader() {
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      for (size_t i = 0; i < clients.size(); ++i) {
        if (!nodes[i]) continue;
        auto r = clients[i]->call(testing::put("/probe", "x"), 2000ms);
        if (r && r->get().getResponse().isPut()) return static_cast<int>(i);
      }
      std::this_thread::sleep_for(kRetryPause);
    }
    return -1;
  }
};

// name -> first client URL, as member `i` lists them.
std::map<std::string, std::string> client_urls_seen_by(testing::TestClient& c) {
  std::map<std::string, std::string> out;
  auto r = c.call([](wire::Request::Builder b) { b.initMemberList(); });
  if (!r || !r->get().getResponse().isMemberList()) return out;
  for (auto m : r->get().getResponse().getMemberList().getMembers()) {
    out[m.getName().cStr()] = m.getClientUrls().size() ? m.getClientUrls()[0].cStr() : "";
  }
  return out;
}

}  // namespace

TEST_CASE("range and watch report the compaction point as the compact revision", "[server][node][compaction]") {
  zmq::context_t ctx(1);
  NodeOptions o;
  o.name = "solo";
  o.data_dir = temp_dir("corral-fixes-test", "solo");
  o.listen_peer = "tcp://127.0.0.1:0";
  o.listen_client = "tcp://127.0.0.1:0";
  o.tick_ms = kFastTickMs;
  auto node = Node::create(o);
  REQUIRE(node.ok());
  (*node)->start();
  testing::TestClient c(ctx, (*node)->client_endpoint());
  std::vector<int64_t> revs;
  for (int i = 0; i < 3; ++i) {
    std::optional<testing::Reply> r;
    for (int a = 0; a < kMaxAttempts && !(r && r->get().getResponse().isPut()); ++a) {
      r = c.call(testing::put("/cr/k", std::to_string(i)), 2000ms);
      if (!(r && r->get().getResponse().isPut())) std::this_thread::sleep_for(kRetryPause);
    }
    REQUIRE((r && r->get().getResponse().isPut()));
    revs.push_back(r->get().getResponse().getHeader().getRevision());
  }
  int64_t first = revs[0], point = revs[1], last = revs[2];
  auto compact = c.call([&](wire::Request::Builder b) { b.initCompaction().setRevision(point); });
  REQUIRE(compact);
  REQUIRE(compact->get().getResponse().isCompaction());

  // Range below the point: compacted, carrying the point. At the point: served.
  auto range_at = [&](int64_t rev) {
    return c.call([&](wire::Request::Builder b) {
      auto g = b.initRange();
      g.setKey(testing::as_data("/cr/k"));
      g.setRevision(rev);
    });
  };
  auto below = range_at(first);
  REQUIRE(below);
  REQUIRE(below->get().getResponse().isError());
  CHECK(below->get().getResponse().getError().getCode() == wire::ErrorCode::COMPACTED);
  CHECK(below->get().getResponse().getError().getCompactRevision() == point);
  auto at = range_at(point);
  REQUIRE(at);
  CHECK(at->get().getResponse().isRange());

  // A watch from `start`: its id, then the first watch message for it.
  auto watch_from = [&](int64_t start) -> std::optional<testing::Reply> {
    auto created = c.call([&](wire::Request::Builder b) {
      auto w = b.initWatchCreate();
      w.setKey(testing::as_data("/cr/k"));
      w.setStartRevision(start);
    });
    if (!created || !created->get().getResponse().isWatchCreate()) return std::nullopt;
    return c.next_other(5000ms);
  };
  // From below the point: cancelled with the point. From the point itself:
  // served, as etcd does (commit 1bcfb43: compaction keeps every change at
  // the compaction point).
  {
    auto m = watch_from(first);
    REQUIRE(m);
    REQUIRE(m->get().isWatchControl());
    REQUIRE(m->get().getWatchControl().isCanceled());
    CHECK(m->get().getWatchControl().getCanceled().getCode() == wire::ErrorCode::COMPACTED);
    CHECK(m->get().getWatchControl().getCanceled().getCompactRevision() == point);
  }
  {
    auto m = watch_from(point);
    REQUIRE(m);
    REQUIRE(m->get().isWatchEvents());
    auto events = m->get().getWatchEvents().getEvents();
    REQUIRE(events.size() >= 1);
    CHECK(events[0].getKv().getModRevision() == point);
  }
  // From point + 1: the history is there.
  auto m = watch_from(point + 1);
  REQUIRE(m);
  REQUIRE(m->get().isWatchEvents());
  auto events = m->get().getWatchEvents().getEvents();
  REQUIRE(events.size() == 1);
  CHECK(events[0].getKv().getModRevision() == last);
  (*node)->stop();
  std::filesystem::remove_all(o.data_dir);
}

TEST_CASE("every member publishes its client URL: member list anywhere names all three", "[server][node][cluster]") {
  Trio trio(kFastTickMs);
  int leader = trio.leader();
  REQUIRE(leader >= 0);
  std::map<std::string, std::string> want;
  for (size_t i = 0; i < trio.nodes.size(); ++i) want["f" + std::to_string(i + 1)] = trio.nodes[i]->client_endpoint();
  for (size_t i = 0; i < trio.nodes.size(); ++i) {
    std::map<std::string, std::string> seen;
    for (int a = 0; a < kMaxAttempts && seen != want; ++a) {
      seen = client_urls_seen_by(*trio.clients[i]);
      if (seen != want) std::this_thread::sleep_for(kRetryPause);
    }
    INFO("member list of f" << i + 1);
    CHECK(seen == want);
  }
  // A follower's notLeader names the leader.
  int follower = (leader + 1) % 3;
  auto r = trio.clients[follower]->call(testing::put("/nope", "x"));
  REQUIRE(r);
  REQUIRE(r->get().getResponse().isError());
  CHECK(r->get().getResponse().getError().getCode() == wire::ErrorCode::NOT_LEADER);
  CHECK(std::string(r->get().getResponse().getError().getLeaderHint().cStr()) == trio.nodes[leader]->client_endpoint());

  // member add answers with the member it added.
  auto added = trio.clients[leader]->call([](wire::Request::Builder b) {
    auto a = b.initMemberAdd();
    a.setName("extra");
    a.initPeerUrls(1).set(0, "tcp://127.0.0.1:1");
    a.setIsLearner(true);
  });
  REQUIRE(added);
  REQUIRE(added->get().getResponse().isMemberAdd());
  auto member = added->get().getResponse().getMemberAdd().getMember();
  CHECK(std::string(member.getName().cStr()) == "extra");
  CHECK(member.getId() != 0);
  CHECK(member.getIsLearner());
  CHECK(added->get().getResponse().getMemberAdd().getMembers().size() == 4);
}

TEST_CASE("a linearizable read on a member that loses its leader is answered at once", "[server][node][cluster]") {
  // Slow ticks: the survivor still believes in the stopped leader when the
  // read arrives, so the read is forwarded to a leader that never answers.
  constexpr int kSlowTickMs = 100;
  constexpr auto kPromptAnswer = 5000ms;  // < the 7 s request timeout
  Trio trio(kSlowTickMs);
  int leader = trio.leader();
  REQUIRE(leader >= 0);
  int survivor = (leader + 1) % 3;
  int other = (leader + 2) % 3;
  trio.nodes[leader]->stop();
  trio.nodes[other]->stop();
  auto start = std::chrono::steady_clock::now();
  auto r = trio.clients[survivor]->call(testing::get("/probe"), kPromptAnswer);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(r);
  REQUIRE(r->get().getResponse().isError());
  auto code = r->get().getResponse().getError().getCode();
  CHECK((code == wire::ErrorCode::UNAVAILABLE || code == wire::ErrorCode::NOT_LEADER));
  CHECK(took < kPromptAnswer);
  // Later reads, with no leader known, are answered at once too.
  auto again = trio.clients[survivor]->call(testing::get("/probe"), kPromptAnswer);
  REQUIRE(again);
  REQUIRE(again->get().getResponse().isError());
  CHECK(again->get().getResponse().getError().getCode() == wire::ErrorCode::UNAVAILABLE);
}
