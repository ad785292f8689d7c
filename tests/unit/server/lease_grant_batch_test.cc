// Batched registration (LeaseGrantBatchRequest) applied by the state
// machine: each grant in its own revision, all or nothing for itself; a
// failing grant changes nothing and the others stand; cluster-chosen ids of
// one batch are distinct and the same on every member.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <capnp/message.h>

#include "coordinator/api/request.h"
#include "coordinator/server/lease_min_ttl.h"
#include "tests/unit/server/applier.h"

using namespace corral;
using namespace corral::server;
namespace wire = corral::schema::api;

namespace {

struct Grant {
  int64_t ttl = 30;
  int64_t id = 0;
  std::vector<std::pair<std::string, std::string>> puts;
};

auto batch_of(std::vector<Grant> grants) {
  return [grants](wire::Request::Builder r) {
    auto list = r.initLeaseGrantBatch().initGrants(static_cast<unsigned>(grants.size()));
    for (unsigned i = 0; i < grants.size(); ++i) {
      list[i].setTtl(grants[i].ttl);
      list[i].setId(grants[i].id);
      auto puts = list[i].initPuts(static_cast<unsigned>(grants[i].puts.size()));
      for (unsigned k = 0; k < puts.size(); ++k) {
        puts[k].setKey(testing::as_data(grants[i].puts[k].first));
        puts[k].setValue(testing::as_data(grants[i].puts[k].second));
      }
    }
  };
}

std::vector<Grant> agents(int n) {
  std::vector<Grant> out;
  for (int i = 0; i < n; ++i) out.push_back(Grant{30, 0, {{"/agents/" + std::to_string(i), "up"}}});
  return out;
}

}  // namespace

TEST_CASE("a grant batch grants each lease with its keys, each in its own revision", "[server][lease][grant-batch]") {
  testing::Applier reg;
  auto reply = reg.apply(batch_of({Grant{30, 0, {{"/agents/a", "up"}, {"/agents/a2", "up"}}},
                                   Grant{40, 900, {{"/agents/b", "up"}}}, Grant{50, 0, {}}}));
  auto resp = reply.get().getResponse();
  if (resp.isError()) FAIL(resp.getError().getMessage().cStr());
  REQUIRE(resp.isLeaseGrantBatch());
  auto outcomes = resp.getLeaseGrantBatch().getOutcomes();
  REQUIRE(outcomes.size() == 3);
  for (auto o : outcomes) CHECK(o.getError() == wire::ErrorCode::OK);
  CHECK(outcomes[1].getId() == 900);
  CHECK(outcomes[0].getTtl() == 30);
  CHECK(outcomes[1].getTtl() == 40);
  CHECK(outcomes[2].getTtl() == 50);
  CHECK(reg.sm->lessor().lookup(outcomes[0].getId())->keys == std::set<std::string>{"/agents/a", "/agents/a2"});
  CHECK(reg.sm->lessor().lookup(900)->keys == std::set<std::string>{"/agents/b"});
  CHECK(reg.sm->lessor().lookup(outcomes[2].getId())->keys.empty());
  // Two grants with keys: two revisions (a grant without keys makes none).
  CHECK(reg.sm->kv().current_revision() == 2);
  auto a = reg.sm->kv().range("/agents/a");
  REQUIRE(a.ok());
  REQUIRE(a->kvs.size() == 1);
  CHECK(a->kvs[0].lease == outcomes[0].getId());
  CHECK(a->kvs[0].mod_revision == 1);
  auto b = reg.sm->kv().range("/agents/b");
  REQUIRE(b.ok());
  REQUIRE(b->kvs.size() == 1);
  CHECK(b->kvs[0].mod_revision == 2);
}

TEST_CASE("a failing grant of a batch changes nothing, the others stand", "[server][lease][grant-batch]") {
  testing::Applier reg;
  reg.apply([](wire::Request::Builder r) {
    auto g = r.initLeaseGrant();
    g.setTtl(30);
    g.setId(77);
  });
  std::vector<std::pair<std::string, std::string>> too_many;
  for (int i = 0; i < 129; ++i) too_many.emplace_back("/agents/many-" + std::to_string(i), "up");
  auto reply = reg.apply(batch_of({Grant{30, 0, {{"/agents/first", "up"}}},
                                   Grant{30, 77, {{"/agents/taken", "up"}}},       // id in use
                                   Grant{30, 0, {{"/agents/ok", "up"}, {"", "up"}}},  // empty key
                                   Grant{30, 0, too_many},                           // past 128 keys
                                   Grant{30, 0, {{"/agents/last", "up"}}}}));
  auto resp = reply.get().getResponse();
  REQUIRE(resp.isLeaseGrantBatch());
  auto o = resp.getLeaseGrantBatch().getOutcomes();
  REQUIRE(o.size() == 5);
  CHECK(o[0].getError() == wire::ErrorCode::OK);
  CHECK(o[1].getError() == wire::ErrorCode::BAD_REQUEST);
  CHECK(o[1].getId() == 77);
  CHECK(std::string(o[1].getMessage().cStr()).find("already exists") != std::string::npos);
  CHECK(o[2].getError() == wire::ErrorCode::BAD_REQUEST);
  CHECK(o[3].getError() == wire::ErrorCode::TOO_LARGE);
  CHECK(o[4].getError() == wire::ErrorCode::OK);
  // Leases: 77 and the two granted; keys: only those of the granted two.
  CHECK(reg.sm->lessor().list().size() == 3);
  CHECK(reg.sm->lessor().lookup(77)->keys.empty());
  auto all = reg.sm->kv().range("/", "\xff");
  REQUIRE(all.ok());
  REQUIRE(all->kvs.size() == 2);
  CHECK(all->kvs[0].key == "/agents/first");
  CHECK(all->kvs[1].key == "/agents/last");
  CHECK(reg.sm->kv().current_revision() == 2);
}

TEST_CASE("cluster-chosen ids of a large batch are distinct and the same on every member", "[server][lease][grant-batch]") {
  testing::Applier one;
  testing::Applier two;
  auto a = one.apply(batch_of(agents(5000)));
  auto b = two.apply(batch_of(agents(5000)));
  auto oa = a.get().getResponse().getLeaseGrantBatch().getOutcomes();
  auto ob = b.get().getResponse().getLeaseGrantBatch().getOutcomes();
  REQUIRE(oa.size() == 5000);
  REQUIRE(ob.size() == 5000);
  std::set<int64_t> ids;
  for (unsigned i = 0; i < oa.size(); ++i) {
    REQUIRE(oa[i].getError() == wire::ErrorCode::OK);
    CHECK(oa[i].getId() == ob[i].getId());
    ids.insert(oa[i].getId());
  }
  CHECK(ids.size() == 5000);
  CHECK(one.sm->lessor().list().size() == 5000);
  CHECK(one.sm->kv().current_revision() == 5000);
}

TEST_CASE("a single grant still derives the id older members derive", "[server][lease][grant-batch]") {
  // Slot 0 keeps the single grant's derivation: a grant batch member and an
  // older one applying the same single grant agree.
  lease::Lessor lessor;
  lease::Lessor other;
  auto single = lessor.grant(0, 30, 42, nullptr);
  auto same = other.grant(0, 30, 42, nullptr, 0);
  REQUIRE(single.ok());
  REQUIRE(same.ok());
  CHECK(*single == *same);
  auto slotted = other.grant(0, 30, 42, nullptr, 1);
  REQUIRE(slotted.ok());
  CHECK(*slotted != *single);
}

TEST_CASE("the leader raises every grant of a batch below the minimum TTL", "[server][lease][grant-batch]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(5);
  batch_of({Grant{1, 0, {}}, Grant{60, 0, {}}, Grant{0, 0, {}}})(r);
  auto parsed = api::parse_request(api::to_flat_bytes(m), api::kDefaultMaxRequestBytes);
  REQUIRE(parsed.ok());
  auto raised = raise_grant_ttl(*parsed.request, 3);
  REQUIRE(raised.has_value());
  auto again = api::parse_request(*raised, api::kDefaultMaxRequestBytes);
  REQUIRE(again.ok());
  auto grants = again.request->get().getLeaseGrantBatch().getGrants();
  CHECK(grants[0].getTtl() == 3);
  CHECK(grants[1].getTtl() == 60);
  CHECK(grants[2].getTtl() == 3);
  CHECK(again.request->id() == 5);
}
