// The client against scripted fake members (fake_member.h): pipelining,
// leader hints, the unknown-outcome rule, watch resume and lease loss.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include "client/client.h"
#include "client/lease_keeper.h"
#include "tests/unit/client/fake_member.h"

using namespace corral::client;
using namespace corral::client::testing;

namespace {

std::string put_ok(uint64_t id, int64_t revision) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<api::ServerMessage>().initResponse();
  r.setId(id);
  r.initHeader().setRevision(revision);
  r.initPut();
  return flat_bytes(m);
}

std::string error_reply(uint64_t id, api::ErrorCode code, const std::string& hint = "") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<api::ServerMessage>().initResponse();
  r.setId(id);
  auto e = r.initError();
  e.setCode(code);
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

std::string events(int64_t watch_id, std::vector<int64_t> revisions) {
  capnp::MallocMessageBuilder m;
  auto w = m.initRoot<api::ServerMessage>().initWatchEvents();
  w.initWatchIds(1).set(0, watch_id);
  auto evs = w.initEvents(static_cast<unsigned>(revisions.size()));
  for (unsigned i = 0; i < revisions.size(); ++i) evs[i].initKv().setModRevision(revisions[i]);
  return flat_bytes(m);
}

Options fast_options(std::vector<std::string> endpoints) {
  Options o;
  o.wire = test_wire();
  o.endpoints = std::move(endpoints);
  o.request_timeout = std::chrono::milliseconds(3000);
  o.connect_timeout = std::chrono::milliseconds(200);
  return o;
}

}  // namespace

TEST_CASE("many requests are in flight at once on one connection") {
  constexpr int kRequests = 100;
  std::mutex mu;
  std::vector<uint64_t> held;
  FakeMember member([&](api::Request::Reader req, std::vector<std::string>& replies) {
    std::lock_guard lock(mu);
    held.push_back(req.getId());
    // Answer only once every request has arrived, in reverse order.
    if (held.size() == kRequests) {
      for (auto it = held.rbegin(); it != held.rend(); ++it) replies.push_back(put_ok(*it, 7));
    }
  });
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  std::vector<std::future<Result<PutResult>>> futures;
  for (int i = 0; i < kRequests; ++i) {
    futures.push_back(client.value()->call_future(PutRequest{"/k" + std::to_string(i), "v"}));
  }
  int ok = 0;
  for (auto& f : futures) {
    auto r = f.get();
    if (r.ok() && r->header.revision == 7) ++ok;
  }
  CHECK(ok == kRequests);
}

TEST_CASE("notLeader with a hint moves the client to the leader") {
  FakeMember leader([&](api::Request::Reader req, std::vector<std::string>& replies) {
    replies.push_back(put_ok(req.getId(), 3));
  });
  FakeMember follower([&](api::Request::Reader req, std::vector<std::string>& replies) {
    replies.push_back(error_reply(req.getId(), api::ErrorCode::NOT_LEADER, leader.endpoint()));
  });
  auto client = Client::connect(fast_options({follower.endpoint()}));
  REQUIRE(client.ok());
  Result<PutResult> r = client.value()->put("/a", "1");
  REQUIRE(r.ok());
  CHECK(r->header.revision == 3);
  CHECK(client.value()->current_endpoint() == leader.endpoint());
  CHECK(follower.requests() == 1);
  CHECK(leader.requests() == 1);
}

TEST_CASE("a non-retryable server error reaches the caller typed") {
  FakeMember member([&](api::Request::Reader req, std::vector<std::string>& replies) {
    replies.push_back(error_reply(req.getId(), api::ErrorCode::TOO_LARGE));
  });
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  Result<PutResult> r = client.value()->put("/a", "1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTooLarge);
  CHECK(member.requests() == 1);
}

TEST_CASE("a write lost with its connection is not resent, a read is") {
  std::atomic<int> b_puts{0};
  FakeMember b([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() == api::Request::PUT) ++b_puts;
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<api::ServerMessage>().initResponse();
    r.setId(req.getId());
    r.initRange().setCount(1);
    replies.push_back(flat_bytes(m));
  });
  std::atomic<bool> got{false};
  auto a = std::make_unique<FakeMember>(
      [&](api::Request::Reader, std::vector<std::string>&) { got = true; });  // never answers
  auto client = Client::connect(fast_options({a->endpoint(), b.endpoint()}));
  REQUIRE(client.ok());
  auto put = client.value()->call_future(PutRequest{"/w", "v"});
  REQUIRE(wait_for([&] { return got.load(); }));
  RangeRequest read;
  read.key = "/w";
  auto get = client.value()->call_future(read);
  REQUIRE(wait_for([&] { return a->requests() == 2; }));
  a->stop();
  Result<PutResult> p = put.get();
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == ErrorCode::kTimeout);
  CHECK(b_puts.load() == 0);
  Result<RangeResult> g = get.get();
  REQUIRE(g.ok());
  CHECK(g->count == 1);
}

TEST_CASE("no member listening: unreachable, and the write surely never left") {
  std::string dead;
  {
    FakeMember gone([](api::Request::Reader, std::vector<std::string>&) {});
    dead = gone.endpoint();
  }
  Options o = fast_options({dead});
  o.request_timeout = std::chrono::milliseconds(800);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  Result<PutResult> r = client.value()->put("/a", "1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnreachable);
}

TEST_CASE("a refused endpoint is left at once, not at connect_timeout (a dead leader still named in hints)") {
  std::string dead;
  {
    FakeMember gone([](api::Request::Reader, std::vector<std::string>&) {});
    dead = gone.endpoint();
  }
  FakeMember leader([&](api::Request::Reader req, std::vector<std::string>& replies) {
    replies.push_back(put_ok(req.getId(), 9));
  });
  // Until it has "elected" a new leader the follower names the dead one.
  std::atomic<int> asked{0};
  FakeMember follower([&](api::Request::Reader req, std::vector<std::string>& replies) {
    const bool elected = ++asked > 3;
    replies.push_back(error_reply(req.getId(), api::ErrorCode::NOT_LEADER, elected ? leader.endpoint() : dead));
  });
  Options o = fast_options({follower.endpoint(), dead});
  // Waiting for the connect timeout even once would miss the request's deadline.
  o.connect_timeout = std::chrono::milliseconds(10000);
  o.request_timeout = std::chrono::milliseconds(3000);
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  Result<PutResult> r = client.value()->put("/a", "1");
  REQUIRE(r.ok());
  CHECK(r->header.revision == 9);
  CHECK(asked.load() >= 4);
}

TEST_CASE("bad endpoints are refused at connect") {
  CHECK(Client::connect(fast_options({})).error().code == ErrorCode::kBadRequest);
  CHECK(Client::connect(fast_options({"nonsense"})).error().code == ErrorCode::kBadRequest);
  CHECK(Client::connect(fast_options({"127.0.0.1:0"})).error().code == ErrorCode::kBadRequest);
}

TEST_CASE("a watch resumes on another member from the last revision + 1, without duplicates") {
  std::atomic<int64_t> b_start{-1};
  FakeMember* b_ptr = nullptr;
  FakeMember b([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() != api::Request::WATCH_CREATE) return;
    b_start = req.getWatchCreate().getStartRevision();
    replies.push_back(watch_created(req.getId(), 9, 12));
    replies.push_back(events(9, {12}));  // already seen: must be dropped
    replies.push_back(events(9, {13}));
  });
  b_ptr = &b;
  std::atomic<bool> a_created{false};
  auto a = std::make_unique<FakeMember>([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() != api::Request::WATCH_CREATE) return;
    replies.push_back(watch_created(req.getId(), 1, 10));
    replies.push_back(events(1, {11}));
    replies.push_back(events(1, {12}));
    a_created = true;
  });
  auto client = Client::connect(fast_options({a->endpoint(), b_ptr->endpoint()}));
  REQUIRE(client.ok());
  std::mutex mu;
  std::vector<int64_t> seen;
  WatchOptions w;
  w.key = "/w/";
  w.range_end = prefix_range_end("/w/");
  WatchHandle h = client.value()->watch(w, [&](const WatchUpdate& u) {
    std::lock_guard lock(mu);
    for (const auto& e : u.events) seen.push_back(e.kv.mod_revision);
  });
  REQUIRE(wait_for([&] {
    std::lock_guard lock(mu);
    return seen.size() == 2;
  }));
  a->stop();
  REQUIRE(wait_for([&] {
    std::lock_guard lock(mu);
    return seen.size() >= 3;
  }));
  CHECK(b_start.load() == 13);
  std::lock_guard lock(mu);
  CHECK(seen == std::vector<int64_t>{11, 12, 13});
}

TEST_CASE("a compacted watch ends with an error carrying the compact revision") {
  FakeMember member([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() != api::Request::WATCH_CREATE) return;
    replies.push_back(watch_created(req.getId(), 4, 50));
    capnp::MallocMessageBuilder m;
    auto c = m.initRoot<api::ServerMessage>().initWatchControl();
    c.setWatchId(4);
    auto e = c.initCanceled();
    e.setCode(api::ErrorCode::COMPACTED);
    e.setCompactRevision(40);
    replies.push_back(flat_bytes(m));
  });
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  std::mutex mu;
  std::optional<Error> ended;
  WatchOptions w;
  w.key = "/w";
  w.start_revision = 2;
  WatchHandle h = client.value()->watch(w, [&](const WatchUpdate& u) {
    std::lock_guard lock(mu);
    if (u.error) ended = u.error;
  });
  REQUIRE(wait_for([&] {
    std::lock_guard lock(mu);
    return ended.has_value();
  }));
  std::lock_guard lock(mu);
  CHECK(ended->code == ErrorCode::kCompacted);
  CHECK(ended->compact_revision == 40);
}

TEST_CASE("the lease keeper refreshes and reports a lease the member no longer knows") {
  std::atomic<int> keepalives{0};
  std::atomic<bool> expire{false};
  FakeMember member([&](api::Request::Reader req, std::vector<std::string>& replies) {
    // A member older than batched keep-alives: the keeper falls back to one
    // request per lease.
    if (req.which() == api::Request::LEASE_KEEP_ALIVE_BATCH) {
      replies.push_back(error_reply(req.getId(), api::ErrorCode::UNKNOWN_REQUEST));
      return;
    }
    if (req.which() != api::Request::LEASE_KEEP_ALIVE) return;
    ++keepalives;
    if (expire.load()) {
      replies.push_back(error_reply(req.getId(), api::ErrorCode::LEASE_NOT_FOUND));
      return;
    }
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<api::ServerMessage>().initResponse();
    r.setId(req.getId());
    r.initLeaseKeepAlive().setTtl(1);
    replies.push_back(flat_bytes(m));
  });
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  std::mutex mu;
  std::vector<std::pair<int64_t, ErrorCode>> lost;
  LeaseKeeper keeper(*client.value(), [&](int64_t id, const Error& e) {
    std::lock_guard lock(mu);
    lost.emplace_back(id, e.code);
  });
  REQUIRE(keeper.add(77, 1).ok());
  REQUIRE(wait_for([&] { return keepalives.load() >= 3; }));
  {
    std::lock_guard lock(mu);
    CHECK(lost.empty());
  }
  expire = true;
  REQUIRE(wait_for([&] {
    std::lock_guard lock(mu);
    return !lost.empty();
  }));
  std::lock_guard lock(mu);
  CHECK(lost.front().first == 77);
  CHECK(lost.front().second == ErrorCode::kLeaseNotFound);
  CHECK(keeper.size() == 0);
}

TEST_CASE("the lease keeper sends its due leases in one batch and reports only the gone one") {
  std::atomic<int> batches{0};
  std::atomic<int> singles{0};
  std::atomic<size_t> largest{0};
  std::atomic<bool> refused_once{false};
  FakeMember member([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() == api::Request::LEASE_KEEP_ALIVE) ++singles;
    if (req.which() != api::Request::LEASE_KEEP_ALIVE_BATCH) return;
    ++batches;
    auto ids = req.getLeaseKeepAliveBatch().getIds();
    if (ids.size() > largest.load()) largest = ids.size();
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<api::ServerMessage>().initResponse();
    r.setId(req.getId());
    auto out = r.initLeaseKeepAliveBatch().initOutcomes(ids.size());
    for (unsigned i = 0; i < ids.size(); ++i) {
      out[i].setId(ids[i]);
      if (ids[i] == 13) {
        out[i].setError(api::ErrorCode::LEASE_NOT_FOUND);
      } else if (ids[i] == 14 && !refused_once.exchange(true)) {
        out[i].setError(api::ErrorCode::UNAVAILABLE);  // not renewed this time: retried
      } else {
        out[i].setTtl(1);
      }
    }
    replies.push_back(flat_bytes(m));
  });
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  std::mutex mu;
  std::vector<std::pair<int64_t, ErrorCode>> lost;
  LeaseKeeper keeper(*client.value(), [&](int64_t id, const Error& e) {
    std::lock_guard lock(mu);
    lost.emplace_back(id, e.code);
  });
  constexpr int kLeases = 500;
  for (int64_t id = 1; id <= kLeases; ++id) REQUIRE(keeper.add(id, 1).ok());
  // Every lease due in the same tick: far fewer frames than leases.
  REQUIRE(wait_for([&] {
    std::lock_guard lock(mu);
    return !lost.empty();
  }));
  REQUIRE(wait_for([&] { return batches.load() >= 4; }));
  CHECK(singles.load() == 0);
  CHECK(largest.load() >= kLeases / 2);
  std::lock_guard lock(mu);
  REQUIRE(lost.size() == 1);
  CHECK(lost.front().first == 13);
  CHECK(lost.front().second == ErrorCode::kLeaseNotFound);
  CHECK(keeper.size() == kLeases - 1);  // 14 is retried, not lost
}

TEST_CASE("a keep-alive batch past the id bound is refused by the client before it is sent") {
  FakeMember member([](api::Request::Reader, std::vector<std::string>&) {});
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  LeaseKeepAliveBatchRequest big;
  big.ids.assign(kMaxKeepAliveBatchIds + 1, 7);
  auto r = client.value()->call(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTooLarge);
  CHECK(member.requests() == 0);
}

TEST_CASE("a grant batch to a member that predates batches falls back to single grants") {
  std::atomic<int> batches{0};
  std::atomic<int> singles{0};
  FakeMember member([&](api::Request::Reader req, std::vector<std::string>& replies) {
    if (req.which() == api::Request::LEASE_GRANT_BATCH) {
      ++batches;
      replies.push_back(error_reply(req.getId(), api::ErrorCode::UNKNOWN_REQUEST));
      return;
    }
    if (req.which() != api::Request::LEASE_GRANT) return;
    ++singles;
    const int64_t asked = req.getLeaseGrant().getId();
    if (asked == 13) {  // taken: this grant fails on its own
      replies.push_back(error_reply(req.getId(), api::ErrorCode::BAD_REQUEST));
      return;
    }
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<api::ServerMessage>().initResponse();
    r.setId(req.getId());
    auto g = r.initLeaseGrant();
    g.setId(asked != 0 ? asked : 1000 + req.getLeaseGrant().getPuts().size());
    g.setTtl(req.getLeaseGrant().getTtl());
    replies.push_back(flat_bytes(m));
  });
  auto client = Client::connect(fast_options({member.endpoint()}));
  REQUIRE(client.ok());
  std::vector<LeaseGrantRequest> grants;
  grants.push_back(LeaseGrantRequest{5, 11, {{"/agents/a", "up"}}});
  grants.push_back(LeaseGrantRequest{6, 13, {}});
  grants.push_back(LeaseGrantRequest{7, 0, {{"/agents/c", "up"}, {"/agents/c2", "up"}}});
  auto r = client.value()->lease_grant_batch(grants);
  REQUIRE(r.ok());
  CHECK(batches.load() == 1);
  CHECK(singles.load() == 3);
  REQUIRE(r->outcomes.size() == 3);
  CHECK(r->outcomes[0].error == ErrorCode::kOk);
  CHECK(r->outcomes[0].id == 11);
  CHECK(r->outcomes[0].ttl_seconds == 5);
  CHECK(r->outcomes[1].error == ErrorCode::kBadRequest);
  CHECK(r->outcomes[1].id == 13);
  CHECK(r->outcomes[2].error == ErrorCode::kOk);
  CHECK(r->outcomes[2].id == 1002);
}

TEST_CASE("past max_in_flight a call waits for a slot, then fails with backpressure") {
  FakeMember silent([](api::Request::Reader, std::vector<std::string>&) {});  // never answers
  Options o = fast_options({silent.endpoint()});
  o.max_in_flight = 2;
  auto client = Client::connect(o);
  REQUIRE(client.ok());
  auto first = client.value()->call_future(PutRequest{"/a", "1"});
  auto second = client.value()->call_future(PutRequest{"/b", "1"});
  CallOptions short_wait;
  short_wait.timeout = std::chrono::milliseconds(100);
  RangeRequest read;
  read.key = "/c";
  Result<RangeResult> third = client.value()->call(read, short_wait);
  REQUIRE_FALSE(third.ok());
  CHECK(third.error().code == ErrorCode::kBackpressure);
  CHECK(silent.requests() <= 2);
  // The two writes reached the member and were never answered: unknown outcome.
  CHECK(first.get().error().code == ErrorCode::kTimeout);
  CHECK(second.get().error().code == ErrorCode::kTimeout);
}
