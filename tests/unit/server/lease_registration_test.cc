// A lease granted with its keys (LeaseGrantRequest.puts): the lease and every
// key exist after, in one revision, or nothing changed at all.
#include <catch2/catch.hpp>

#include <capnp/message.h>

#include "coordinator/api/response.h"
#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "tests/unit/server/applier.h"
#include "tests/unit/server/test_client.h"

using namespace corral;
using namespace corral::server;
namespace wire = corral::schema::api;

namespace {

auto grant_with(int64_t ttl, std::vector<std::pair<std::string, std::string>> puts) {
  return [ttl, puts](wire::Request::Builder r) {
    auto g = r.initLeaseGrant();
    g.setTtl(ttl);
    auto list = g.initPuts(static_cast<unsigned>(puts.size()));
    for (unsigned i = 0; i < puts.size(); ++i) {
      list[i].setKey(testing::as_data(puts[i].first));
      list[i].setValue(testing::as_data(puts[i].second));
    }
  };
}

}  // namespace

TEST_CASE("a lease granted with its keys holds them, all in one revision", "[server][lease]") {
  testing::Applier reg;
  auto reply = reg.apply(grant_with(30, {{"/agents/a", "up"}, {"/svc/web/log/10.0.0.1", "9000"}}));
  auto resp = reply.get().getResponse();
  if (resp.isError()) FAIL(resp.getError().getMessage().cStr());
  REQUIRE(resp.isLeaseGrant());
  const int64_t id = resp.getLeaseGrant().getId();
  REQUIRE(id != 0);
  CHECK(resp.getHeader().getRevision() == 1);

  const lease::Lease* l = reg.sm->lessor().lookup(id);
  REQUIRE(l != nullptr);
  CHECK(l->keys == std::set<std::string>{"/agents/a", "/svc/web/log/10.0.0.1"});
  for (auto key : {"/agents/a", "/svc/web/log/10.0.0.1"}) {
    auto r = reg.sm->kv().range(key);
    REQUIRE(r.ok());
    REQUIRE(r->kvs.size() == 1);
    CHECK(r->kvs[0].lease == id);
    CHECK(r->kvs[0].mod_revision == 1);
  }

  // Revoking the lease removes every key it was granted with.
  reg.apply([id](wire::Request::Builder r) { r.initLeaseRevoke().setId(id); });
  auto left = reg.sm->kv().range("/", "\xff");
  REQUIRE(left.ok());
  CHECK(left->kvs.empty());
}

TEST_CASE("a lease grant with a bad key changes nothing", "[server][lease]") {
  testing::Applier reg;
  SECTION("an empty key") {
    auto reply = reg.apply(grant_with(30, {{"/agents/ok", "up"}, {"", "up"}}));
    auto resp = reply.get().getResponse();
    REQUIRE(resp.isError());
    CHECK(resp.getError().getCode() == wire::ErrorCode::BAD_REQUEST);
  }
  SECTION("a value past the limit") {
    auto reply = reg.apply(grant_with(30, {{"/agents/ok", "up"}, {"/agents/big", std::string(2 * 1024 * 1024, 'v')}}));
    auto resp = reply.get().getResponse();
    REQUIRE(resp.isError());
    CHECK(resp.getError().getCode() == wire::ErrorCode::TOO_LARGE);
  }
  SECTION("too many keys") {
    std::vector<std::pair<std::string, std::string>> many;
    for (int i = 0; i < 129; ++i) many.emplace_back("/agents/" + std::to_string(i), "up");
    auto reply = reg.apply(grant_with(30, many));
    auto resp = reply.get().getResponse();
    REQUIRE(resp.isError());
    CHECK(resp.getError().getCode() == wire::ErrorCode::TOO_LARGE);
  }
  CHECK(reg.sm->lessor().list().empty());
  CHECK(reg.sm->kv().current_revision() == 0);
}

TEST_CASE("a lease grant with an id in use puts nothing", "[server][lease]") {
  testing::Applier reg;
  auto first = reg.apply([](wire::Request::Builder r) {
    auto g = r.initLeaseGrant();
    g.setTtl(30);
    g.setId(77);
  });
  REQUIRE(first.get().getResponse().isLeaseGrant());
  auto again = reg.apply([](wire::Request::Builder r) {
    auto g = r.initLeaseGrant();
    g.setTtl(30);
    g.setId(77);
    auto puts = g.initPuts(1);
    puts[0].setKey(testing::as_data("/agents/x"));
    puts[0].setValue(testing::as_data("up"));
  });
  REQUIRE(again.get().getResponse().isError());
  CHECK(reg.sm->kv().current_revision() == 0);
  CHECK(reg.sm->lessor().lookup(77)->keys.empty());
}

// An overwrite's event carries no old record on a member (the store reads
// none: StateMachine, set_prev_kv_in_events): the key's old lease comes
// from the lessor, and revoking it must not take the key along.
TEST_CASE("a leased key overwritten without its lease, or with another, leaves the old lease", "[server][lease]") {
  testing::Applier reg;
  auto grant = [&](std::vector<std::pair<std::string, std::string>> puts) {
    auto reply = reg.apply(grant_with(30, std::move(puts)));
    auto resp = reply.get().getResponse();
    REQUIRE(resp.isLeaseGrant());
    return resp.getLeaseGrant().getId();
  };
  auto put = [&](const std::string& key, int64_t lease) {
    auto reply = reg.apply([&](wire::Request::Builder r) {
      auto p = r.initPut();
      p.setKey(testing::as_data(key));
      p.setValue(testing::as_data("again"));
      p.setLease(lease);
    });
    REQUIRE_FALSE(reply.get().getResponse().isError());
  };
  const int64_t a = grant({{"/agents/a", "up"}, {"/agents/b", "up"}});
  const int64_t b = grant({});
  put("/agents/a", 0);  // no lease now
  put("/agents/b", b);  // moved to b
  CHECK(reg.sm->lessor().lookup(a)->keys.empty());
  CHECK(reg.sm->lessor().lookup(b)->keys == std::set<std::string>{"/agents/b"});
  reg.apply([a](wire::Request::Builder r) { r.initLeaseRevoke().setId(a); });
  for (auto key : {"/agents/a", "/agents/b"}) {
    auto r = reg.sm->kv().range(key);
    REQUIRE(r.ok());
    CHECK(r->kvs.size() == 1);
  }
  reg.apply([b](wire::Request::Builder r) { r.initLeaseRevoke().setId(b); });
  CHECK(reg.sm->kv().range("/agents/b")->kvs.empty());
  CHECK(reg.sm->kv().range("/agents/a")->kvs.size() == 1);
}
