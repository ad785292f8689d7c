// The node loop in-process on loopback ports: a single member (put, get,
// range, delete, restart from its data dir) and a 3-member cluster.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
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

constexpr int kTestTickMs = 20;
constexpr int kMaxAttempts = 500;

NodeOptions single(const std::string& dir) {
  NodeOptions o;
  o.name = "solo";
  o.data_dir = dir;
  o.listen_peer = "tcp://127.0.0.1:0";
  o.listen_client = "tcp://127.0.0.1:0";
  o.tick_ms = kTestTickMs;
  return o;
}

// Retries a write until a leader exists and it succeeds (or attempts run out).
// The revision of the put that was acknowledged. A put that timed out may
// still have been applied (a slow member, e.g. under TSan), so after a retry
// the revision can be past the number of puts.
std::optional<int64_t> put_until_ok(testing::TestClient& c, const std::string& k, const std::string& v) {
  for (int i = 0; i < kMaxAttempts; ++i) {
    auto r = c.call(testing::put(k, v), 2000ms);
    if (r && r->get().getResponse().isPut()) return r->get().getResponse().getHeader().getRevision();
    std::this_thread::sleep_for(10ms);  // back-off between retries, not synchronisation
  }
  return std::nullopt;
}

std::optional<std::string> get_value(testing::TestClient& c, const std::string& k, bool serializable = false) {
  auto r = c.call(testing::get(k, {}, serializable));
  if (!r || !r->get().getResponse().isRange()) return std::nullopt;
  auto kvs = r->get().getResponse().getRange().getKvs();
  if (kvs.size() != 1) return std::string();
  return testing::as_string(kvs[0].getValue());
}

}  // namespace

TEST_CASE("single member: put, get, range, delete, restart", "[server][node]") {
  auto dir = temp_dir("corral-node-test", "single");
  zmq::context_t ctx(1);
  {
    auto node = Node::create(single(dir));
    REQUIRE(node.ok());
    (*node)->start();
    testing::TestClient c(ctx, (*node)->client_endpoint());
    REQUIRE(c.ok());
    REQUIRE(put_until_ok(c, "/apps/web/a", "1"));
    REQUIRE(put_until_ok(c, "/apps/web/b", "2"));
    const auto last_put = put_until_ok(c, "/apps/db/c", "3");
    REQUIRE(last_put);
    CHECK(get_value(c, "/apps/web/a") == std::optional<std::string>("1"));
    CHECK(get_value(c, "/apps/web/b", true) == std::optional<std::string>("2"));

    auto range = c.call(testing::get("/apps/", "/apps0"));
    REQUIRE(range);
    REQUIRE(range->get().getResponse().isRange());
    CHECK(range->get().getResponse().getRange().getCount() == 3);
    CHECK(range->get().getResponse().getHeader().getRevision() == *last_put);

    auto del = c.call(testing::del("/apps/web/", "/apps/web0"));
    REQUIRE(del);
    REQUIRE(del->get().getResponse().isDeleteRange());
    CHECK(del->get().getResponse().getDeleteRange().getDeleted() == 2);

    auto list = c.call([](wire::Request::Builder r) { r.initList().setDir(testing::as_data("/apps")); });
    REQUIRE(list);
    REQUIRE(list->get().getResponse().isList());
    auto entries = list->get().getResponse().getList().getEntries();
    for (auto e : entries) UNSCOPED_INFO("entry " << testing::as_string(e.getName()) << " dir=" << e.getIsDir() << " key=" << e.getHasKey());
    REQUIRE(entries.size() == 1);
    CHECK(testing::as_string(entries[0].getName()) == "db");
    CHECK(entries[0].getIsDir());

    // Bad input gets typed errors and the member keeps serving.
    c.send_raw(std::string(16, '\x01'));
    auto bad = c.receive_any(5000ms);
    REQUIRE(bad);
    REQUIRE(bad->get().getResponse().isError());
    CHECK(bad->get().getResponse().getError().getCode() == wire::ErrorCode::MALFORMED);
    auto huge = c.call(testing::put("/huge", std::string(api::kDefaultMaxRequestBytes + 1024, 'h')));
    REQUIRE(huge);
    REQUIRE(huge->get().getResponse().isError());
    CHECK(huge->get().getResponse().getError().getCode() == wire::ErrorCode::TOO_LARGE);
    auto empty_key = c.call(testing::put("", "x"));
    REQUIRE(empty_key);
    REQUIRE(empty_key->get().getResponse().isError());
    CHECK(empty_key->get().getResponse().getError().getCode() == wire::ErrorCode::BAD_REQUEST);

    auto status = c.call([](wire::Request::Builder r) { r.initStatus(); });
    REQUIRE(status);
    REQUIRE(status->get().getResponse().isStatus());
    CHECK(status->get().getResponse().getStatus().getLeader() == (*node)->id());
    CHECK(status->get().getResponse().getStatus().getRaftAppliedIndex() > 0);
    (*node)->stop();
  }
  {
    // Restart from the data dir: every acknowledged write is there.
    auto node = Node::create(single(dir));
    REQUIRE(node.ok());
    (*node)->start();
    testing::TestClient c(ctx, (*node)->client_endpoint());
    CHECK(get_value(c, "/apps/db/c", true) == std::optional<std::string>("3"));
    CHECK(get_value(c, "/apps/web/a", true) == std::optional<std::string>(""));
    REQUIRE(put_until_ok(c, "/after", "restart"));
    CHECK(get_value(c, "/after") == std::optional<std::string>("restart"));
    (*node)->stop();
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("single member: watch sees puts and deletes in order", "[server][node][watch]") {
  auto dir = temp_dir("corral-node-test", "watch");
  zmq::context_t ctx(1);
  auto node = Node::create(single(dir));
  REQUIRE(node.ok());
  (*node)->start();
  testing::TestClient c(ctx, (*node)->client_endpoint());
  REQUIRE(put_until_ok(c, "/w/0", "before"));
  auto created = c.call([](wire::Request::Builder r) {
    auto w = r.initWatchCreate();
    w.setKey(testing::as_data("/w/"));
    w.setRangeEnd(testing::as_data("/w0"));
    w.setStartRevision(1);
  });
  REQUIRE(created);
  REQUIRE(created->get().getResponse().isWatchCreate());
  int64_t wid = created->get().getResponse().getWatchCreate().getWatchId();
  REQUIRE(put_until_ok(c, "/w/1", "a"));
  REQUIRE(c.call(testing::del("/w/0")));
  std::vector<std::pair<int64_t, std::string>> seen;  // (revision, key)
  for (int i = 0; i < 10 && seen.size() < 3; ++i) {
    auto m = c.next_other(5000ms);
    if (!m) break;
    if (!m->get().isWatchEvents()) continue;
    auto we = m->get().getWatchEvents();
    REQUIRE(we.getWatchIds().size() == 1);
    CHECK(we.getWatchIds()[0] == wid);
    for (auto e : we.getEvents()) seen.emplace_back(e.getKv().getModRevision(), testing::as_string(e.getKv().getKey()));
  }
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == std::make_pair(int64_t{1}, std::string("/w/0")));
  CHECK(seen[1] == std::make_pair(int64_t{2}, std::string("/w/1")));
  CHECK(seen[2] == std::make_pair(int64_t{3}, std::string("/w/0")));
  (*node)->stop();
  (*node).reset();  // closes the engine before its dir goes
  std::filesystem::remove_all(dir);
}

// Three members on loopback, started, with a test client each; `leader` is
// the member that accepted a first write ("/first").
struct ThreeMembers {
  std::vector<NodeOptions> options;  // as each member was created
  std::vector<std::string> dirs;
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<testing::TestClient>> clients;
  int leader = -1;

  // Stops the members and closes their engines before their data dirs go:
  // removing a dir under an open RocksDB raced its background deletes
  // ("cannot remove all: No such file or directory ... .sst").
  ~ThreeMembers() {
    for (auto& n : nodes) {
      if (n) n->stop();
    }
    nodes.clear();
    std::error_code ec;
    for (auto& d : dirs) std::filesystem::remove_all(d, ec);
  }

  ThreeMembers(zmq::context_t& ctx, const std::string& dir_tag, const std::function<void(NodeOptions&)>& tune) {
    const std::vector<std::string> names = {"m1", "m2", "m3"};
    std::vector<int> peer_ports, client_ports;
    std::string cluster;
    for (size_t i = 0; i < names.size(); ++i) {
      peer_ports.push_back(free_port());
      client_ports.push_back(free_port());
      cluster += (i ? "," : "") + names[i] + "=tcp://127.0.0.1:" + std::to_string(peer_ports[i]);
    }
    for (size_t i = 0; i < names.size(); ++i) {
      NodeOptions o;
      o.name = names[i];
      dirs.push_back(temp_dir("corral-node-test", dir_tag + names[i]));
      o.data_dir = dirs.back();
      o.listen_peer = "tcp://127.0.0.1:" + std::to_string(peer_ports[i]);
      o.listen_client = "tcp://127.0.0.1:" + std::to_string(client_ports[i]);
      o.initial_cluster = cluster;
      o.tick_ms = kTestTickMs;
      tune(o);
      options.push_back(o);
      auto n = Node::create(o);
      REQUIRE(n.ok());
      nodes.push_back(std::move(n).value());
    }
    for (auto& n : nodes) n->start();
    for (auto& n : nodes) clients.push_back(std::make_unique<testing::TestClient>(ctx, n->client_endpoint()));
    for (int attempt = 0; attempt < kMaxAttempts && leader < 0; ++attempt) {
      for (size_t i = 0; i < clients.size() && leader < 0; ++i) {
        auto r = clients[i]->call(testing::put("/first", "x"), 2000ms);
        if (r && r->get().getResponse().isPut()) leader = static_cast<int>(i);
      }
      if (leader < 0) std::this_thread::sleep_for(20ms);
    }
    REQUIRE(leader >= 0);
  }
};

TEST_CASE("three members: replicate, follower redirects, survive a member stop", "[server][node][cluster]") {
  zmq::context_t ctx(1);
  ThreeMembers cluster(ctx, "cluster-", [](NodeOptions&) {});
  auto& nodes = cluster.nodes;
  auto& clients = cluster.clients;
  const int leader = cluster.leader;
  std::string hint;
  for (int i = 0; i < 50; ++i) REQUIRE(put_until_ok(*clients[leader], "/k/" + std::to_string(i), std::to_string(i)));

  int follower = (leader + 1) % 3;
  // A follower refuses writes with the leader's client URL.
  bool redirected = false;
  for (int attempt = 0; attempt < kMaxAttempts && !redirected; ++attempt) {
    auto r = clients[follower]->call(testing::put("/nope", "x"));
    REQUIRE(r);
    auto resp = r->get().getResponse();
    REQUIRE(resp.isError());
    CHECK(resp.getError().getCode() == wire::ErrorCode::NOT_LEADER);
    redirected = std::string(resp.getError().getLeaderHint().cStr()) == nodes[leader]->client_endpoint();
    if (!redirected) std::this_thread::sleep_for(20ms);
  }
  CHECK(redirected);
  // A linearizable read on a follower sees the last acknowledged write.
  CHECK(get_value(*clients[follower], "/k/49") == std::optional<std::string>("49"));

  // Stop one follower; the other two still commit.
  int stopped = (leader + 2) % 3;
  nodes[stopped]->stop();
  nodes[stopped].reset();
  REQUIRE(put_until_ok(*clients[leader], "/after-stop", "ok"));
  CHECK(get_value(*clients[follower], "/after-stop") == std::optional<std::string>("ok"));

  // Restarted from its data dir, it catches up with what it missed.
  auto restarted = Node::create(cluster.options[stopped]);
  REQUIRE(restarted.ok());
  nodes[stopped] = std::move(restarted).value();
  nodes[stopped]->start();
  testing::TestClient c3(ctx, nodes[stopped]->client_endpoint());
  bool caught_up = false;
  for (int i = 0; i < kMaxAttempts && !caught_up; ++i) {
    caught_up = get_value(c3, "/after-stop", true) == std::optional<std::string>("ok");
    if (!caught_up) std::this_thread::sleep_for(20ms);
  }
  CHECK(caught_up);

  // Leadership transfer: the leader hands over to a follower, which then
  // accepts writes.
  auto move = clients[leader]->call([&](wire::Request::Builder b) { b.initMoveLeader().setTargetId(nodes[follower]->id()); });
  REQUIRE(move);
  CHECK(move->get().getResponse().isMoveLeader());
  bool moved = false;
  for (int i = 0; i < kMaxAttempts && !moved; ++i) {
    auto r = clients[follower]->call(testing::put("/moved", "yes"), 2000ms);
    moved = r && r->get().getResponse().isPut();
    if (!moved) std::this_thread::sleep_for(20ms);
  }
  CHECK(moved);
}

TEST_CASE("single member: leases grant, keepalive, revoke and expire with their keys", "[server][node][lease]") {
  auto dir = temp_dir("corral-node-test", "lease");
  zmq::context_t ctx(1);
  auto node = Node::create(single(dir));
  REQUIRE(node.ok());
  (*node)->start();
  testing::TestClient c(ctx, (*node)->client_endpoint());
  REQUIRE(put_until_ok(c, "/warmup", "x"));

  auto grant = [&](int64_t ttl) -> int64_t {
    auto r = c.call([=](wire::Request::Builder b) { b.initLeaseGrant().setTtl(ttl); });
    if (!r || !r->get().getResponse().isLeaseGrant()) return 0;
    return r->get().getResponse().getLeaseGrant().getId();
  };
  auto put_leased = [&](const std::string& k, int64_t lease) {
    auto r = c.call([=](wire::Request::Builder b) {
      auto p = b.initPut();
      p.setKey(testing::as_data(k));
      p.setValue(testing::as_data("v"));
      p.setLease(lease);
    });
    return r && r->get().getResponse().isPut();
  };

  int64_t l1 = grant(60);
  REQUIRE(l1 > 0);
  REQUIRE(put_leased("/agents/a", l1));
  REQUIRE(put_leased("/agents/b", l1));
  // A put naming a lease that does not exist is a typed error.
  auto bad = c.call([](wire::Request::Builder b) {
    auto p = b.initPut();
    p.setKey(testing::as_data("/x"));
    p.setLease(123456789);
  });
  REQUIRE(bad);
  REQUIRE(bad->get().getResponse().isError());
  CHECK(bad->get().getResponse().getError().getCode() == wire::ErrorCode::LEASE_NOT_FOUND);

  auto ka = c.call([=](wire::Request::Builder b) { b.initLeaseKeepAlive().setId(l1); });
  REQUIRE(ka);
  REQUIRE(ka->get().getResponse().isLeaseKeepAlive());
  CHECK(ka->get().getResponse().getLeaseKeepAlive().getTtl() == 60);

  auto ttl = c.call([=](wire::Request::Builder b) {
    auto t = b.initLeaseTimeToLive();
    t.setId(l1);
    t.setKeys(true);
  });
  REQUIRE(ttl);
  REQUIRE(ttl->get().getResponse().isLeaseTimeToLive());
  CHECK(ttl->get().getResponse().getLeaseTimeToLive().getKeys().size() == 2);

  auto revoke = c.call([=](wire::Request::Builder b) { b.initLeaseRevoke().setId(l1); });
  REQUIRE(revoke);
  REQUIRE(revoke->get().getResponse().isLeaseRevoke());
  auto range = c.call(testing::get("/agents/", "/agents0"));
  REQUIRE(range);
  CHECK(range->get().getResponse().getRange().getCount() == 0);

  // A short lease expires on its own and takes its key with it.
  int64_t l2 = grant(1);  // raised to the minimum TTL
  REQUIRE(l2 > 0);
  REQUIRE(put_leased("/agents/short", l2));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    auto r = c.call(testing::get("/agents/short"));
    gone = r && r->get().getResponse().isRange() && r->get().getResponse().getRange().getCount() == 0;
    if (!gone) std::this_thread::sleep_for(100ms);  // polling a condition, with a bound
  }
  CHECK(gone);
  auto leases = c.call([](wire::Request::Builder b) { b.initLeaseLeases(); });
  REQUIRE(leases);
  REQUIRE(leases->get().getResponse().isLeaseLeases());
  CHECK(leases->get().getResponse().getLeaseLeases().getIds().size() == 0);
  (*node)->stop();
  (*node).reset();  // closes the engine before its dir goes
  std::filesystem::remove_all(dir);
}

TEST_CASE("membership: add a learner that catches up by snapshot, promote it, remove it", "[server][node][membership]") {
  zmq::context_t ctx(1);
  int p1 = free_port(), p2 = free_port();
  auto d1 = temp_dir("corral-node-test", "member-m1"), d2 = temp_dir("corral-node-test", "member-m2");
  NodeOptions o1;
  o1.name = "m1";
  o1.data_dir = d1;
  o1.listen_peer = "tcp://127.0.0.1:" + std::to_string(p1);
  o1.listen_client = "tcp://127.0.0.1:0";
  o1.tick_ms = kTestTickMs;
  auto n1 = Node::create(o1);
  REQUIRE(n1.ok());
  (*n1)->start();
  testing::TestClient c1(ctx, (*n1)->client_endpoint());
  for (int i = 0; i < 20; ++i) REQUIRE(put_until_ok(c1, "/k/" + std::to_string(i), std::to_string(i)));

  std::string m2_peer = "tcp://127.0.0.1:" + std::to_string(p2);
  auto add = c1.call([&](wire::Request::Builder b) {
    auto a = b.initMemberAdd();
    a.setName("m2");
    a.initPeerUrls(1).set(0, m2_peer);
    a.setIsLearner(true);
  });
  REQUIRE(add);
  REQUIRE(add->get().getResponse().isMemberAdd());
  CHECK(add->get().getResponse().getMemberAdd().getMembers().size() == 2);

  NodeOptions o2 = o1;
  o2.name = "m2";
  o2.data_dir = d2;
  o2.listen_peer = m2_peer;
  o2.initial_cluster = "m1=" + o1.listen_peer + ",m2=" + m2_peer;
  o2.initial_cluster_new = false;
  auto n2 = Node::create(o2);
  REQUIRE(n2.ok());
  (*n2)->start();
  testing::TestClient c2(ctx, (*n2)->client_endpoint());
  bool caught_up = false;
  for (int i = 0; i < kMaxAttempts && !caught_up; ++i) {
    caught_up = get_value(c2, "/k/19", true) == std::optional<std::string>("19");
    if (!caught_up) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(caught_up);

  auto promote = c1.call([&](wire::Request::Builder b) { b.initMemberPromote().setId((*n2)->id()); });
  REQUIRE(promote);
  REQUIRE(promote->get().getResponse().isMemberPromote());
  REQUIRE(put_until_ok(c1, "/after-promote", "yes"));
  bool replicated = false;
  for (int i = 0; i < kMaxAttempts && !replicated; ++i) {
    replicated = get_value(c2, "/after-promote", true) == std::optional<std::string>("yes");
    if (!replicated) std::this_thread::sleep_for(20ms);
  }
  CHECK(replicated);
  auto list = c2.call([](wire::Request::Builder b) { b.initMemberList(); });
  REQUIRE(list);
  REQUIRE(list->get().getResponse().isMemberList());
  auto members = list->get().getResponse().getMemberList().getMembers();
  REQUIRE(members.size() == 2);
  for (auto m : members) CHECK_FALSE(m.getIsLearner());

  // Removing m2 makes it stop by itself.
  auto remove = c1.call([&](wire::Request::Builder b) { b.initMemberRemove().setId((*n2)->id()); });
  REQUIRE(remove);
  REQUIRE(remove->get().getResponse().isMemberRemove());
  bool finished = false;
  for (int i = 0; i < kMaxAttempts && !finished; ++i) {
    finished = (*n2)->finished();
    if (!finished) std::this_thread::sleep_for(20ms);
  }
  CHECK(finished);
  REQUIRE(put_until_ok(c1, "/after-remove", "alone"));
  (*n2)->stop();
  (*n1)->stop();
  (*n2).reset();
  (*n1).reset();
  std::filesystem::remove_all(d1);
  std::filesystem::remove_all(d2);
}

TEST_CASE("single member: auto compaction, compacted reads, snapshot save", "[server][node][compaction]") {
  auto dir = temp_dir("corral-node-test", "compaction");
  zmq::context_t ctx(1);
  auto o = single(dir);
  o.auto_compaction_retention_revisions = 5;
  auto node = Node::create(o);
  REQUIRE(node.ok());
  (*node)->start();
  testing::TestClient c(ctx, (*node)->client_endpoint());
  for (int i = 0; i < 30; ++i) REQUIRE(put_until_ok(c, "/c", std::to_string(i)));
  // The leader compacts on its own; a read of an old revision then fails
  // with the compact revision.
  bool compacted = false;
  int64_t compact_rev = 0;
  for (int i = 0; i < kMaxAttempts && !compacted; ++i) {
    auto r = c.call([](wire::Request::Builder b) {
      auto g = b.initRange();
      g.setKey(testing::as_data("/c"));
      g.setRevision(2);
    });
    REQUIRE(r);
    auto resp = r->get().getResponse();
    compacted = resp.isError() && resp.getError().getCode() == wire::ErrorCode::COMPACTED;
    if (compacted) compact_rev = resp.getError().getCompactRevision();
    if (!compacted) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(compacted);
  CHECK(compact_rev >= 2);
  CHECK(get_value(c, "/c") == std::optional<std::string>("29"));

  // Manual compaction through the request; a future revision is refused.
  auto manual = c.call([](wire::Request::Builder b) { b.initCompaction().setRevision(1000); });
  REQUIRE(manual);
  REQUIRE(manual->get().getResponse().isError());
  CHECK(manual->get().getResponse().getError().getCode() == wire::ErrorCode::FUTURE_REVISION);

  // Snapshot save: chunks of one request id, the last with remainingBytes 0.
  auto snap = c.call([](wire::Request::Builder b) { b.initSnapshot(); });
  REQUIRE(snap);
  REQUIRE(snap->get().getResponse().isSnapshot());
  auto blob = snap->get().getResponse().getSnapshot().getBlob();
  CHECK(std::string(reinterpret_cast<const char*>(blob.begin()), 8) == "CRLIMG01");
  CHECK(snap->get().getResponse().getSnapshot().getRemainingBytes() == 0);
  (*node)->stop();
  (*node).reset();  // closes the engine before its dir goes
  std::filesystem::remove_all(dir);
}

TEST_CASE("three members: a follower that fell behind a compacted log catches up by a chunked snapshot", "[server][node][snapshot]") {
  zmq::context_t ctx(1);
  ThreeMembers cluster(ctx, "snap-", [](NodeOptions& o) {
    o.snapshot_count = 20;
    o.snapshot_catchup_entries = 5;
  });
  auto& nodes = cluster.nodes;
  auto& clients = cluster.clients;
  const int leader = cluster.leader;
  int lagging = (leader + 1) % 3;
  nodes[lagging]->stop();
  nodes[lagging].reset();
  // Far more than snapshot_count entries, and an image well past one peer chunk.
  std::string value(8 * 1024, 'v');
  for (int i = 0; i < 150; ++i) REQUIRE(put_until_ok(*clients[leader], "/big/" + std::to_string(i), value));

  auto restarted = Node::create(cluster.options[lagging]);
  REQUIRE(restarted.ok());
  nodes[lagging] = std::move(restarted).value();
  nodes[lagging]->start();
  testing::TestClient c(ctx, nodes[lagging]->client_endpoint());
  bool caught_up = false;
  for (int i = 0; i < kMaxAttempts && !caught_up; ++i) {
    auto r = c.call(testing::get("/big/", "/big0", true));
    caught_up = r && r->get().getResponse().isRange() && r->get().getResponse().getRange().getCount() == 150;
    if (!caught_up) std::this_thread::sleep_for(20ms);
  }
  CHECK(caught_up);
}

TEST_CASE("in-memory member (NodeOptions.in_memory): starts, serves writes, leaves nothing on disk",
          "[server][node]") {
  auto dir = temp_dir("corral-node-test", "in-memory");
  zmq::context_t ctx(1);
  auto o = single(dir);
  o.in_memory = true;
  // A relative data dir (corrald's default) used to fail: RocksDB's memory
  // Env cannot make a path absolute.
  const bool relative = GENERATE(false, true);
  if (relative) o.data_dir = "corral.data";
  auto node = Node::create(o);
  INFO((node.ok() ? std::string() : node.error().message));
  REQUIRE(node.ok());
  (*node)->start();
  testing::TestClient c(ctx, (*node)->client_endpoint());
  REQUIRE(c.ok());
  REQUIRE(put_until_ok(c, "/mem/a", "1"));
  CHECK(get_value(c, "/mem/a") == std::optional<std::string>("1"));
  (*node)->stop();
  CHECK_FALSE(std::filesystem::exists(o.data_dir));
}

// A write the leader proposed but could not commit (no quorum) when it stops
// may still commit on the others later: its outcome is unknown (timeout),
// and `unavailable` keeps meaning "not done".
TEST_CASE("a stopping leader answers its proposed writes with timeout (outcome unknown)", "[server][node][cluster]") {
  zmq::context_t ctx(1);
  // A long election timeout: the leader must not step down (check quorum)
  // between losing its followers and receiving the write.
  ThreeMembers cluster(ctx, "stopping-", [](NodeOptions& o) { o.election_ticks = 100; });
  auto& nodes = cluster.nodes;
  auto& clients = cluster.clients;
  const int leader = cluster.leader;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (static_cast<int>(i) != leader) nodes[i]->stop();
  }
  auto& c = *clients[leader];
  capnp::MallocMessageBuilder m;
  auto req = m.initRoot<wire::Request>();
  constexpr uint64_t kPutId = 1'000'000;
  req.setId(kPutId);
  testing::put("/never-committed", "x")(req);
  c.send_raw(api::to_flat_bytes(m));
  // Requests of one connection are handled in order: once the status answer
  // is here, the put was proposed (and is pending: no quorum).
  auto status = c.call([](wire::Request::Builder b) { b.initStatus(); }, 5000ms);
  REQUIRE(status);
  nodes[leader]->stop();
  std::optional<testing::Reply> answer;
  for (auto& other : c.others) {
    if (other.get().isResponse() && other.get().getResponse().getId() == kPutId) answer = std::move(other);
  }
  if (!answer) answer = c.wait_response(kPutId, 5000ms);
  REQUIRE(answer);
  REQUIRE(answer->get().getResponse().isError());
  CHECK(answer->get().getResponse().getError().getCode() == wire::ErrorCode::TIMEOUT);
}

// A follower forwards a linearizable read to the leader as a ReadIndex
// message; if that message is lost, the follower asks again (every half
// election timeout) instead of leaving the client to its deadline.
TEST_CASE("three members: a follower's lost read-index request is asked again", "[server][node][cluster]") {
  zmq::context_t ctx(1);
  auto dropped = std::make_shared<std::atomic<int>>(0);
  ThreeMembers cluster(ctx, "read-retry-", [dropped](NodeOptions& o) {
    o.request_timeout_ms = 5000;  // a read not confirmed by then fails with timeout
    // Only followers send ReadIndex; the first one in the cluster is lost.
    o.drop_peer_message = [dropped](const raft::Message& m) {
      if (m.type != raft::MessageType::kReadIndex) return false;
      int expected = 0;
      return dropped->compare_exchange_strong(expected, 1);
    };
  });
  const int follower = (cluster.leader + 1) % 3;
  REQUIRE(put_until_ok(*cluster.clients[cluster.leader], "/read-retry", "v"));
  auto r = cluster.clients[follower]->call(testing::get("/read-retry"), 4000ms);
  REQUIRE(r);
  INFO((r->get().getResponse().isError() ? r->get().getResponse().getError().getMessage().cStr() : "ok"));
  REQUIRE(r->get().getResponse().isRange());
  CHECK(r->get().getResponse().getRange().getKvs().size() == 1);
  CHECK(dropped->load() == 1);
}
