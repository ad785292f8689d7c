// Users, roles and permissions on real corrald processes (etcd's auth
// model): with auth enabled, a request of every kind that the user's roles
// do not allow is refused with permissionDenied and changes nothing; tokens
// that are forged, expired or belong to a deleted user are refused with
// unauthenticated; the auth store survives a restart and reaches a member
// that catches up by snapshot; auth disable opens access again.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/txn.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;
using client::AuthPermission;
using client::ErrorCode;

namespace {

constexpr const char* kRootPassword = "root-pw";
constexpr const char* kAlicePassword = "alice-pw";
constexpr std::chrono::milliseconds kWaitMs{10'000};

std::unique_ptr<client::Client> client_as(const Cluster& c, const std::string& user, const std::string& password,
                                          std::vector<std::string> endpoints = {}) {
  client::Options o;
  o.endpoints = endpoints.empty() ? c.endpoints() : std::move(endpoints);
  o.connect_timeout = 300ms;
  o.read_attempt_timeout = 500ms;
  o.user = user;
  o.password = password;
  auto made = client::Client::connect(o);
  REQUIRE(made.ok());
  return std::move(made).value();
}

// The error of a call that must fail with `code`; its message is returned.
template <class T>
std::string require_error(const client::Result<T>& r, ErrorCode code, const std::string& what) {
  INFO(what << ": " << (r.ok() ? std::string("succeeded") : client::to_string(r.error())));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == code);
  return r.error().message;
}

template <class T>
void require_denied(const client::Result<T>& r, const std::string& what, const std::string& user = "alice") {
  auto message = require_error(r, ErrorCode::kPermissionDenied, what);
  CHECK(message.find(user) != std::string::npos);
}

std::string value_of(client::Client& root, const std::string& key) {
  auto r = require_ok(root.get(key), "get " + key);
  return r.kvs.empty() ? "<absent>" : r.kvs[0].value;
}

// Root and alice (read and write under /apps/web/), keys inside and
// outside her prefix, a lease holding a key outside it; then auth enable.
// Returns the lease.
int64_t set_up_auth(client::Client& open) {
  require_ok(open.put("/apps/web/a", "1"), "put");
  require_ok(open.put("/apps/db/x", "1"), "put");
  require_ok(open.put("/other", "1"), "put");
  auto lease = require_ok(open.lease_grant_with_keys(600, {{"/apps/db/leased", "1"}}), "lease grant");
  require_ok(open.user_add("root", kRootPassword), "user add root");
  require_ok(open.user_add("alice", kAlicePassword), "user add alice");
  require_ok(open.role_add("web"), "role add");
  require_ok(open.role_grant_permission("web", {AuthPermission::Type::kReadWrite, "/apps/web/",
                                                client::prefix_range_end("/apps/web/")}),
             "grant");
  require_ok(open.user_grant_role("alice", "web"), "grant role");
  require_ok(open.auth_enable(), "auth enable");
  return lease.id;
}

client::RangeRequest get_req(std::string key) {
  client::RangeRequest r;
  r.key = std::move(key);
  return r;
}

ClusterOptions fast(int members) {
  ClusterOptions o;
  o.members = members;
  return o;
}

}  // namespace

TEST_CASE("auth: a denied request of every kind is refused and changes nothing", "[auth]") {
  Cluster c(fast(1));
  c.start();
  auto open = c.client();
  const int64_t lease = set_up_auth(*open);
  auto root = client_as(c, "root", kRootPassword);
  auto alice = client_as(c, "alice", kAlicePassword);
  const auto rev_before = require_ok(root->get("/other"), "get").header.revision;

  SECTION("anonymous: key space refused, status and auth status answered") {
    require_denied(open->get("/apps/web/a"), "anonymous get", "anonymous");
    require_denied(open->put("/apps/web/a", "2"), "anonymous put", "anonymous");
    require_denied(open->lease_grant(60), "anonymous lease grant", "anonymous");
    require_ok(open->status(), "status");
    CHECK(require_ok(open->auth_status(), "auth status").enabled);
  }

  SECTION("alice inside her prefix") {
    require_ok(alice->put("/apps/web/b", "2"), "put inside");
    CHECK(require_ok(alice->get("/apps/web/a"), "get inside").kvs.size() == 1);
    CHECK(require_ok(alice->get_prefix("/apps/web/"), "range inside").kvs.size() == 2);
    require_ok(alice->list("/apps/web"), "ls inside");
    require_ok(alice->del("/apps/web/b"), "del inside");
  }

  SECTION("alice outside it: every kind") {
    require_denied(alice->get("/apps/db/x"), "get");
    require_denied(alice->get_prefix("/apps/"), "range wider than the permission");
    require_denied(alice->list("/apps"), "ls");
    require_denied(alice->put("/apps/db/x", "2"), "put");
    require_denied(alice->del("/apps/db/x"), "del");
    require_denied(alice->del("/apps/web/", "/apps/x"), "del range past the prefix");

    client::TxnRequest compare_outside;
    compare_outside.compare.push_back(client::compare_value("/apps/db/x", client::Compare::Op::kEqual, "1"));
    compare_outside.success.push_back(client::op_put("/apps/web/t1", "1"));
    require_denied(alice->txn(compare_outside), "txn compare");

    // The failure branch would not run (the compare holds), yet it is checked.
    client::TxnRequest untaken;
    untaken.compare.push_back(client::compare_value("/apps/web/a", client::Compare::Op::kEqual, "1"));
    untaken.success.push_back(client::op_put("/apps/web/t2", "1"));
    untaken.failure.push_back(client::op_put("/apps/db/y", "1"));
    require_denied(alice->txn(untaken), "txn with a denied op in the untaken branch");

    client::TxnRequest read_outside;
    read_outside.success.push_back(client::op_get("/other"));
    require_denied(alice->txn(read_outside), "txn range");

    require_denied(alice->lease_grant_with_keys(60, {{"/apps/db/z", "1"}}), "lease grant with a key");
    require_denied(alice->lease_revoke(lease), "lease revoke of a lease holding /apps/db/leased");
    require_denied(alice->compact(rev_before), "compaction");
    require_denied(alice->defragment_of(c.endpoints()[0]), "defragment");
    require_denied(alice->snapshot_save(c.root() + "/alice.snap"), "snapshot");
    require_denied(alice->member_add("m9", {"tcp://127.0.0.1:1"}), "member add");
    require_denied(alice->member_remove(c.member_id(0)), "member remove");
    require_denied(alice->move_leader(c.member_id(0)), "move leader");
    require_denied(alice->user_add("mallory", "x"), "user add");
    require_denied(alice->user_grant_role("alice", "root"), "grant herself root");
    require_denied(alice->role_grant_permission("web", {AuthPermission::Type::kReadWrite, "/", std::string("\0", 1)}),
                   "widen her role");
    require_denied(alice->user_get("root"), "user get of another");
    require_denied(alice->auth_disable(), "auth disable");

    // Nothing changed: the revision, the values, the lease, users and roles.
    CHECK(require_ok(root->get("/other"), "get").header.revision == rev_before);
    CHECK(value_of(*root, "/apps/db/x") == "1");
    CHECK(value_of(*root, "/apps/db/y") == "<absent>");
    CHECK(value_of(*root, "/apps/db/z") == "<absent>");
    CHECK(value_of(*root, "/apps/web/t1") == "<absent>");
    CHECK(value_of(*root, "/apps/web/t2") == "<absent>");
    CHECK(value_of(*root, "/apps/db/leased") == "1");
    CHECK(require_ok(root->lease_ttl(lease), "lease ttl").ttl_seconds > 0);
    CHECK(require_ok(root->user_list(), "user list").names == std::vector<std::string>{"alice", "root"});
    CHECK(require_ok(root->user_get("alice"), "user get").roles == std::vector<std::string>{"web"});
    CHECK(require_ok(root->role_get("web"), "role get").perms.size() == 1);
    CHECK(require_ok(root->auth_status(), "auth status").enabled);
    CHECK(require_ok(root->member_list(), "member list").members.size() == 1);

    // Her own user is hers to read.
    CHECK(require_ok(alice->user_get("alice"), "user get self").roles == std::vector<std::string>{"web"});
  }

  SECTION("watches: beyond the permission refused; a permitted one sees only its keys") {
    client::WatchOptions beyond;
    beyond.key = "/apps/";
    beyond.range_end = client::prefix_range_end("/apps/");
    std::promise<client::Error> ended;
    auto handle = alice->watch(beyond, [&ended, done = false](const client::WatchUpdate& u) mutable {
      if (u.error && !done) {
        done = true;
        ended.set_value(*u.error);
      }
    });
    auto f = ended.get_future();
    REQUIRE(f.wait_for(kWaitMs) == std::future_status::ready);
    auto e = f.get();
    CHECK(e.code == ErrorCode::kPermissionDenied);

    client::WatchOptions inside;
    inside.key = "/apps/web/";
    inside.range_end = client::prefix_range_end("/apps/web/");
    std::mutex mu;
    std::vector<std::string> seen;
    bool created = false;
    auto watching = alice->watch(inside, [&](const client::WatchUpdate& u) {
      std::lock_guard lock(mu);
      if (u.created) created = true;
      for (const auto& ev : u.events) seen.push_back(ev.kv.key);
    });
    REQUIRE(wait_until([&] { std::lock_guard lock(mu); return created; }, kWaitMs));
    for (const char* key : {"/apps/web0", "/apps/webx", "/apps/db/x", "/apps/web", "/apps/web/in", "/other", "/apps/web/end"}) {
      require_ok(root->put(key, "v"), std::string("put ") + key);
    }
    REQUIRE(wait_until([&] { std::lock_guard lock(mu); return !seen.empty() && seen.back() == "/apps/web/end"; }, kWaitMs));
    std::lock_guard lock(mu);
    CHECK(seen == std::vector<std::string>{"/apps/web/in", "/apps/web/end"});
  }

  SECTION("a permission change takes effect on the next request") {
    require_ok(alice->put("/apps/web/c", "1"), "put before");
    require_ok(root->role_revoke_permission("web", "/apps/web/", client::prefix_range_end("/apps/web/")), "revoke");
    require_denied(alice->put("/apps/web/c", "2"), "put after the revoke");
    CHECK(value_of(*root, "/apps/web/c") == "1");
    require_ok(root->role_grant_permission("web", {AuthPermission::Type::kRead, "/apps/web/",
                                                   client::prefix_range_end("/apps/web/")}),
               "grant read only");
    require_ok(alice->get("/apps/web/c"), "read after the grant");
    require_denied(alice->put("/apps/web/c", "3"), "write with read only");
  }

  SECTION("auth disable restores open access") {
    require_ok(root->auth_disable(), "auth disable");
    require_ok(open->put("/apps/db/x", "open"), "anonymous put");
    require_ok(alice->get("/other"), "alice reads anything");
    CHECK(value_of(*open, "/apps/db/x") == "open");
  }
}

TEST_CASE("auth: wrong passwords and forged, expired or stale tokens are unauthenticated", "[auth]") {
  ClusterOptions o = fast(1);
  o.extra_args = {"--auth-token-ttl", "2"};
  Cluster c(o);
  c.start();
  auto open = c.client();
  set_up_auth(*open);

  require_error(open->authenticate("alice", "wrong"), ErrorCode::kUnauthenticated, "wrong password");
  require_error(open->authenticate("nobody", "x"), ErrorCode::kUnauthenticated, "unknown user");
  auto wrong = client_as(c, "alice", "wrong");
  require_error(wrong->get("/apps/web/a"), ErrorCode::kUnauthenticated, "a client with a wrong password");

  const std::string token = require_ok(open->authenticate("alice", kAlicePassword), "authenticate");
  client::CallOptions with_token;
  with_token.token = token;
  require_ok(open->call(get_req("/apps/web/a"), with_token), "get with alice's token");

  auto with = [](std::string t) {
    client::CallOptions co;
    co.token = std::move(t);
    return co;
  };
  const std::string mac = token.substr(token.rfind(':'));
  const std::string claims = token.substr(0, token.rfind(':'));
  const std::vector<std::string> forged = {
      "root" + token.substr(token.find(':')),                       // another user, her MAC
      claims.substr(0, claims.find(':') + 1) + "9999999999999" + claims.substr(claims.find(':', claims.find(':') + 1)) + mac,
      claims + ":" + std::string(64, '0'),
      "garbage",
  };
  for (const auto& t : forged) {
    require_error(open->call(get_req("/apps/web/a"), with(t)), ErrorCode::kUnauthenticated,
                  "forged token " + t);
  }

  SECTION("a token expires; a client with a password authenticates again by itself") {
    auto alice = client_as(c, "alice", kAlicePassword);
    require_ok(alice->get("/apps/web/a"), "get");
    // Minted after alice's session token: once it has expired, so has hers.
    const std::string later = require_ok(open->authenticate("alice", kAlicePassword), "authenticate");
    REQUIRE(wait_until([&] {
      auto r = open->call(get_req("/apps/web/a"), with(later));
      return !r.ok() && r.error().code == ErrorCode::kUnauthenticated &&
             r.error().message.find("expired") != std::string::npos;
    }, kWaitMs, 100ms));
    require_ok(alice->get("/apps/web/a"), "get after its token expired");
  }

  SECTION("a deleted user's token stops working; so does one from before a password change") {
    auto root = client_as(c, "root", kRootPassword);
    require_ok(root->user_add("bob", "bob-pw"), "user add bob");
    require_ok(root->user_grant_role("bob", "web"), "grant");
    const std::string bob = require_ok(open->authenticate("bob", "bob-pw"), "authenticate bob");
    require_ok(open->call(get_req("/apps/web/a"), with(bob)), "bob reads");
    require_ok(root->user_delete("bob"), "user delete bob");
    require_error(open->call(get_req("/apps/web/a"), with(bob)), ErrorCode::kUnauthenticated,
                  "deleted user's token");
    require_ok(root->user_add("bob", "bob-pw"), "bob again");
    require_error(open->call(get_req("/apps/web/a"), with(bob)), ErrorCode::kUnauthenticated,
                  "the old bob's token for the new bob");

    const std::string before = require_ok(open->authenticate("alice", kAlicePassword), "authenticate");
    require_ok(root->user_change_password("alice", "new-pw"), "passwd");
    require_error(open->call(get_req("/apps/web/a"), with(before)), ErrorCode::kUnauthenticated,
                  "token from before the password change");
    require_error(open->authenticate("alice", kAlicePassword), ErrorCode::kUnauthenticated, "old password");
    require_ok(open->authenticate("alice", "new-pw"), "new password");
  }
}

TEST_CASE("auth: survives a restart, and a member that catches up by snapshot enforces it", "[auth][snapshot]") {
  ClusterOptions o = fast(3);
  o.snapshot_count = 20;
  o.snapshot_catchup_entries = 10;
  Cluster c(o);
  c.start();
  auto leader = c.wait_for_leader();
  REQUIRE(leader);
  const size_t late = (*leader + 1) % 3;
  c.signal_member(late, SIGKILL);

  auto open = c.client();
  set_up_auth(*open);
  auto root = client_as(c, "root", kRootPassword);
  // Past snapshot_count: the others compact their logs, so the late member
  // can only catch up from a snapshot image.
  for (int i = 0; i < 60; ++i) require_ok(root->put("/fill/" + std::to_string(i), "v"), "fill");
  const std::string token = require_ok(open->authenticate("alice", kAlicePassword), "authenticate");

  c.start_member(late);
  REQUIRE(wait_until([&] { return c.log_of(late).find("installed snapshot") != std::string::npos; }, 30'000ms));
  const auto applied = require_ok(root->status(), "status").raft_applied_index;
  REQUIRE(c.wait_applied(late, applied, 30'000ms));

  // Served by the late member alone (serializable): it has the auth store.
  auto at_late = c.client({c.member(late).client_url()});
  client::CallOptions as_alice;
  as_alice.token = token;
  client::RangeRequest outside = get_req("/apps/db/x");
  outside.serializable = true;
  client::RangeRequest inside = get_req("/apps/web/a");
  inside.serializable = true;
  require_denied(at_late->call(outside, as_alice), "late member: alice outside her prefix");
  CHECK(require_ok(at_late->call(inside, as_alice), "late member: alice inside").kvs.size() == 1);
  require_denied(at_late->call(inside), "late member: anonymous", "anonymous");

  // A restart keeps users, roles, the enabled flag and the signing key.
  const size_t restarted = *c.wait_for_leader();
  c.signal_member(restarted, SIGKILL);
  c.start_member(restarted);
  REQUIRE(c.wait_for_leader());
  REQUIRE(c.wait_applied(restarted, applied, 30'000ms));
  auto at_restarted = c.client({c.member(restarted).client_url()});
  require_denied(at_restarted->call(outside, as_alice), "restarted member: alice outside");
  CHECK(require_ok(at_restarted->call(inside, as_alice), "restarted member: token from before").kvs.size() == 1);
}
