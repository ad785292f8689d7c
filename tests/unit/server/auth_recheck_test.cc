// The apply-time permission check (auth_recheck.h): a write admitted under
// one auth revision and applied after a permission change is checked again.
#include <catch2/catch.hpp>

#include <capnp/message.h>

#include "coordinator/api/response.h"
#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "tests/unit/server/test_client.h"

using namespace corral;
using namespace corral::server;
namespace wire = corral::schema::api;

namespace {

std::string request(uint64_t id, const std::function<void(wire::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  fill(r);
  return api::to_flat_bytes(m);
}

auto auth_change(const std::function<void(wire::AuthRequest::Builder)>& fill) {
  return [fill](wire::Request::Builder r) { fill(r.initAuth()); };
}

// One member's state machine; entries are applied one at a time and every
// answer is kept (answer_all).
struct Store {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<StateMachine> sm;
  uint64_t index = 0;
  uint64_t next_id = 1;

  Store() {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/auth-recheck-test";
    engine = std::move(storage::Engine::open(eo)).value();
    StateMachineOptions so;
    so.self_id = 1;
    so.answer_all = true;
    sm = std::move(StateMachine::open(*engine, so)).value();
  }
  // Applies one request with the given stamp; returns its answer.
  testing::Reply apply(const std::function<void(wire::Request::Builder)>& fill, std::optional<AuthStamp> stamp) {
    CommandWriter w(1);
    w.add(1, request(next_id++, fill), stamp);
    storage::WriteBatch batch;
    ApplyOutput out;
    sm->apply_entry(raft::Entry{1, ++index, raft::EntryType::kNormal, w.take()}, batch, out);
    REQUIRE(engine->write(std::move(batch), false).ok());
    sm->batch_written();
    REQUIRE(out.answers.size() == 1);
    return testing::Reply(out.answers[0].response);
  }
  // An auth change as root admitted it just now.
  void admin(const std::function<void(wire::AuthRequest::Builder)>& fill) {
    auto reply = apply(auth_change(fill), AuthStamp{"root", sm->auth().revision()});
    REQUIRE_FALSE(reply.get().getResponse().isError());
  }
  bool has(const std::string& key) const {
    auto res = sm->kv().range(key, {}, {});
    return res.ok() && !res->kvs.empty();
  }
};

wire::ErrorCode code_of(const testing::Reply& r) {
  auto res = r.get().getResponse();
  return res.isError() ? res.getError().getCode() : wire::ErrorCode::OK;
}

// root, alice with role `apps` (readwrite /apps/), auth enabled.
void set_up_alice(Store& s) {
  s.admin([](auto a) { a.initUserAdd().setName("root"); a.setHashedPassword(testing::as_data("x")); });
  s.admin([](auto a) { a.initUserAdd().setName("alice"); a.setHashedPassword(testing::as_data("x")); });
  s.admin([](auto a) { a.initRoleAdd().setName("apps"); });
  s.admin([](auto a) {
    auto g = a.initRoleGrantPermission();
    g.setRole("apps");
    auto p = g.initPerm();
    p.setType(wire::Permission::Type::READWRITE);
    p.setKey(testing::as_data("/apps/"));
    p.setRangeEnd(testing::as_data("/apps0"));
  });
  s.admin([](auto a) {
    auto g = a.initUserGrantRole();
    g.setUser("alice");
    g.setRole("apps");
  });
  s.admin([](auto a) { a.setAuthEnable(); a.setSigningKey(testing::as_data(std::string(32, 'k'))); });
  REQUIRE(s.sm->auth().enabled());
}

void revoke_apps_permission(Store& s) {
  s.admin([](auto a) {
    auto g = a.initRoleRevokePermission();
    g.setRole("apps");
    auto p = g.initPerm();
    p.setKey(testing::as_data("/apps/"));
    p.setRangeEnd(testing::as_data("/apps0"));
  });
}

}  // namespace

TEST_CASE("a write admitted before its permission was revoked is refused at apply", "[server][auth]") {
  Store s;
  set_up_alice(s);
  const uint64_t admitted_at = s.sm->auth().revision();
  // The same write, admitted now, goes through.
  CHECK(code_of(s.apply(testing::put("/apps/a", "1"), AuthStamp{"alice", admitted_at})) == wire::ErrorCode::OK);
  CHECK(s.has("/apps/a"));
  revoke_apps_permission(s);
  REQUIRE(s.sm->auth().revision() > admitted_at);
  const int64_t rev_before = s.sm->kv().current_revision();
  // Admitted under the old revision, applied after the revoke: refused,
  // nothing changes.
  auto refused = s.apply(testing::put("/apps/b", "2"), AuthStamp{"alice", admitted_at});
  CHECK(code_of(refused) == wire::ErrorCode::PERMISSION_DENIED);
  CHECK_FALSE(s.has("/apps/b"));
  auto del = s.apply(testing::del("/apps/a"), AuthStamp{"alice", admitted_at});
  CHECK(code_of(del) == wire::ErrorCode::PERMISSION_DENIED);
  CHECK(s.has("/apps/a"));
  CHECK(s.sm->kv().current_revision() == rev_before);
}

TEST_CASE("a stale stamp whose user still holds the permission applies", "[server][auth]") {
  Store s;
  set_up_alice(s);
  const uint64_t admitted_at = s.sm->auth().revision();
  // An unrelated change moves the revision on.
  s.admin([](auto a) { a.initRoleAdd().setName("other"); });
  REQUIRE(s.sm->auth().revision() > admitted_at);
  CHECK(code_of(s.apply(testing::put("/apps/c", "3"), AuthStamp{"alice", admitted_at})) == wire::ErrorCode::OK);
  CHECK(s.has("/apps/c"));
  // Outside her prefix it was never allowed.
  CHECK(code_of(s.apply(testing::put("/etc/x", "3"), AuthStamp{"alice", admitted_at})) ==
        wire::ErrorCode::PERMISSION_DENIED);
}

TEST_CASE("auth enabled after an anonymous write was admitted refuses it at apply", "[server][auth]") {
  Store s;
  s.admin([](auto a) { a.initUserAdd().setName("root"); a.setHashedPassword(testing::as_data("x")); });
  const uint64_t admitted_at = s.sm->auth().revision();  // auth off: anyone may
  s.admin([](auto a) { a.setAuthEnable(); a.setSigningKey(testing::as_data(std::string(32, 'k'))); });
  CHECK(code_of(s.apply(testing::put("/k", "v"), AuthStamp{"", admitted_at})) == wire::ErrorCode::PERMISSION_DENIED);
  CHECK_FALSE(s.has("/k"));
  // Unstamped requests (server-made, version 1 entries) are not checked again.
  CHECK(code_of(s.apply(testing::put("/k", "v"), std::nullopt)) == wire::ErrorCode::OK);
}

TEST_CASE("a command's auth stamp round-trips, a version 1 command reads as unstamped", "[server][command]") {
  CommandWriter w(3);
  w.add(1, "a", AuthStamp{"alice", 42});
  w.add(2, "b");
  auto data = w.take();
  auto cmd = decode_command(data);
  REQUIRE(cmd.ok());
  REQUIRE(cmd->items.size() == 2);
  REQUIRE(cmd->items[0].stamp);
  CHECK(cmd->items[0].stamp->user == "alice");
  CHECK(cmd->items[0].stamp->auth_revision == 42);
  CHECK_FALSE(cmd->items[1].stamp);
  for (size_t n = 0; n < data.size(); ++n) CHECK_FALSE(decode_command(std::string_view(data).substr(0, n)).ok());
  std::string bad_flag = data;
  bad_flag[2 + 8 + 4 + 8 + 4 + 1] = 7;  // item 1's stamp flag
  CHECK_FALSE(decode_command(bad_flag).ok());
  // Version 1: magic, version, proposer, count, one item without a stamp.
  std::string v1 = std::string("K\x01", 2) + std::string(8, '\0') + std::string("\x01\0\0\0", 4) +
                   std::string("\x05\0\0\0\0\0\0\0", 8) + std::string("\x01\0\0\0", 4) + "z";
  auto old = decode_command(v1);
  REQUIRE(old.ok());
  REQUIRE(old->items.size() == 1);
  CHECK(old->items[0].proposal_id == 5);
  CHECK(old->items[0].request == "z");
  CHECK_FALSE(old->items[0].stamp);
}
