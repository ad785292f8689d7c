// The NOSPACE alarm table (alarms.h) as the state machine applies it:
// raise, disarm, idempotence, the snapshot image and a restart; which
// requests the refusal covers; and that with auth on only root may raise,
// disarm or list alarms (etcd's rule: alarms are admin operations).
#include <catch2/catch.hpp>

#include <capnp/message.h>

#include "coordinator/api/response.h"
#include "coordinator/server/alarms.h"
#include "coordinator/server/auth_gate.h"
#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "tests/unit/server/test_client.h"

using namespace corral;
using namespace corral::server;
namespace wire = corral::schema::api;

namespace {

using Fill = std::function<void(wire::Request::Builder)>;

std::string request(uint64_t id, const Fill& fill) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  fill(r);
  return api::to_flat_bytes(m);
}

Fill alarm(wire::AlarmAction action, uint64_t member) {
  return [=](wire::Request::Builder r) {
    auto a = r.initMaintenance().initAlarm();
    a.setAction(action);
    a.setMemberId(member);
    a.setAlarm(wire::AlarmType::NO_SPACE);
  };
}

// A request as a reader (what the leader's checks see).
struct Built {
  capnp::MallocMessageBuilder message;
  explicit Built(const Fill& fill) { fill(message.initRoot<wire::Request>()); }
  wire::Request::Reader get() { return message.getRoot<wire::Request>().asReader(); }
};

// One member's state machine on an in-memory engine.
struct Store {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<StateMachine> sm;
  uint64_t index = 0;
  uint64_t next_id = 1;

  explicit Store(const std::string& path) {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = path;
    engine = std::move(storage::Engine::open(eo)).value();
    reopen();
  }
  void reopen() {
    StateMachineOptions so;
    so.self_id = 1;
    so.answer_all = true;
    sm.reset();
    sm = std::move(StateMachine::open(*engine, so)).value();
  }
  testing::Reply apply(const Fill& fill, std::optional<AuthStamp> stamp = std::nullopt) {
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
};

wire::ErrorCode code_of(const testing::Reply& r) {
  auto res = r.get().getResponse();
  return res.isError() ? res.getError().getCode() : wire::ErrorCode::OK;
}

std::optional<wire::ErrorCode> refusal(const AlarmTable& alarms, const Fill& fill, bool own_low) {
  Built b(fill);
  auto e = nospace_refusal(alarms, b.get(), own_low);
  if (!e) return std::nullopt;
  return e->code;
}

}  // namespace

TEST_CASE("alarms: raise, raise again, disarm one, disarm all", "[server][alarm]") {
  Store s("/alarm-test-raise");
  CHECK_FALSE(s.sm->alarms().any());
  auto raised = s.apply(alarm(wire::AlarmAction::RAISE, 7));
  REQUIRE(code_of(raised) == wire::ErrorCode::OK);
  // The answer lists the alarms as they stand after the change.
  auto listed = raised.get().getResponse().getMaintenance().getAlarm().getAlarms();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].getMemberId() == 7);
  CHECK(listed[0].getAlarm() == wire::AlarmType::NO_SPACE);
  // Idempotent: the same raise (a member asks again each second) is one alarm.
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::RAISE, 7))) == wire::ErrorCode::OK);
  CHECK(s.sm->alarms().all().size() == 1);
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::RAISE, 9))) == wire::ErrorCode::OK);
  CHECK(s.sm->alarms().all().size() == 2);
  // Disarm one member's alarm; disarming it again changes nothing.
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::DISARM, 7))) == wire::ErrorCode::OK);
  CHECK_FALSE(s.sm->alarms().has(7));
  CHECK(s.sm->alarms().has(9));
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::DISARM, 7))) == wire::ErrorCode::OK);
  CHECK(s.sm->alarms().all().size() == 1);
  // Member 0: every alarm.
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::RAISE, 11))) == wire::ErrorCode::OK);
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::DISARM, 0))) == wire::ErrorCode::OK);
  CHECK_FALSE(s.sm->alarms().any());
  // Nothing of them is left on disk: a restart loads none.
  s.reopen();
  CHECK_FALSE(s.sm->alarms().any());
}

TEST_CASE("alarms: a bad raise is refused and changes nothing", "[server][alarm]") {
  Store s("/alarm-test-bad");
  CHECK(code_of(s.apply(alarm(wire::AlarmAction::RAISE, 0))) == wire::ErrorCode::BAD_REQUEST);
  CHECK(code_of(s.apply([](wire::Request::Builder r) {
          auto a = r.initMaintenance().initAlarm();
          a.setAction(wire::AlarmAction::RAISE);
          a.setMemberId(5);
          a.setAlarm(wire::AlarmType::NONE);
        })) == wire::ErrorCode::BAD_REQUEST);
  CHECK_FALSE(s.sm->alarms().any());
  s.reopen();
  CHECK_FALSE(s.sm->alarms().any());
}

TEST_CASE("alarms survive a restart and travel in the snapshot image", "[server][alarm]") {
  Store s("/alarm-test-image-from");
  REQUIRE(code_of(s.apply(alarm(wire::AlarmAction::RAISE, 7))) == wire::ErrorCode::OK);
  REQUIRE(code_of(s.apply(testing::put("/k", "v"))) == wire::ErrorCode::OK);
  s.reopen();
  CHECK(s.sm->alarms().has(7));

  auto image = s.sm->image();
  REQUIRE(image.ok());
  Store t("/alarm-test-image-to");
  REQUIRE(code_of(t.apply(alarm(wire::AlarmAction::RAISE, 9))) == wire::ErrorCode::OK);
  storage::WriteBatch batch;
  REQUIRE(t.sm->stage_restore(*image, batch).ok());
  REQUIRE(t.engine->write(std::move(batch), false).ok());
  REQUIRE(t.sm->reload().ok());
  // The image's alarms replace the member's own.
  CHECK(t.sm->alarms().has(7));
  CHECK_FALSE(t.sm->alarms().has(9));
  CHECK(t.sm->alarms().all().size() == 1);
  t.reopen();
  CHECK(t.sm->alarms().has(7));
  CHECK(t.sm->alarms().all().size() == 1);
}

TEST_CASE("NOSPACE refuses what grows the data dir, and nothing else", "[server][alarm]") {
  Store s("/alarm-test-refusal");
  const AlarmTable none = s.sm->alarms();
  REQUIRE(code_of(s.apply(alarm(wire::AlarmAction::RAISE, 7))) == wire::ErrorCode::OK);
  const AlarmTable& raised = s.sm->alarms();
  const auto nospace = std::optional<wire::ErrorCode>(wire::ErrorCode::NO_SPACE);

  const Fill put = testing::put("/k", "v");
  const Fill del = testing::del("/k");
  const Fill get = testing::get("/k");
  const Fill grant = [](wire::Request::Builder r) { r.initLeaseGrant().setTtl(10); };
  const Fill keepalive = [](wire::Request::Builder r) { r.initLeaseKeepAlive().setId(1); };
  const Fill read_txn = [](wire::Request::Builder r) {
    auto ops = r.initTxn().initSuccess(1);
    ops[0].initRange().setKey(testing::as_data("/k"));
  };
  const Fill nested_write_txn = [](wire::Request::Builder r) {
    auto ops = r.initTxn().initFailure(1);
    ops[0].initTxn().initSuccess(1)[0].initPut().setKey(testing::as_data("/k"));
  };
  const Fill disarm = alarm(wire::AlarmAction::DISARM, 0);
  const Fill list = alarm(wire::AlarmAction::LIST, 0);

  SECTION("no alarm, disk fine: nothing refused") {
    for (const Fill& f : {put, del, grant, nested_write_txn, disarm}) CHECK(refusal(none, f, false) == std::nullopt);
  }
  SECTION("an alarm stands: writes refused, reads, keep-alives and the disarm go") {
    for (const Fill& f : {put, del, grant, nested_write_txn}) CHECK(refusal(raised, f, false) == nospace);
    for (const Fill& f : {get, read_txn, keepalive, disarm, list}) CHECK(refusal(raised, f, false) == std::nullopt);
  }
  SECTION("own disk low before any alarm committed: writes and the disarm refused") {
    for (const Fill& f : {put, del, grant, nested_write_txn, disarm}) CHECK(refusal(none, f, true) == nospace);
    for (const Fill& f : {get, read_txn, keepalive, list}) CHECK(refusal(none, f, true) == std::nullopt);
  }
}

TEST_CASE("with auth on, only root may raise, disarm or list alarms", "[server][alarm][auth]") {
  Store s("/alarm-test-auth");
  auto admin = [&](const std::function<void(wire::AuthRequest::Builder)>& fill) {
    auto reply = s.apply([&](wire::Request::Builder r) { fill(r.initAuth()); },
                         AuthStamp{"root", s.sm->auth().revision()});
    REQUIRE(code_of(reply) == wire::ErrorCode::OK);
  };
  admin([](auto a) { a.initUserAdd().setName("root"); a.setHashedPassword(testing::as_data("x")); });
  admin([](auto a) { a.initUserAdd().setName("alice"); a.setHashedPassword(testing::as_data("x")); });
  admin([](auto a) { a.initRoleAdd().setName("all"); });
  admin([](auto a) {
    auto g = a.initRoleGrantPermission();
    g.setRole("all");
    auto p = g.initPerm();
    p.setType(wire::Permission::Type::READWRITE);
    p.setKey(testing::as_data("/"));
    p.setRangeEnd(testing::as_data("0"));
  });
  admin([](auto a) {
    auto g = a.initUserGrantRole();
    g.setUser("alice");
    g.setRole("all");
  });
  admin([](auto a) { a.setAuthEnable(); a.setSigningKey(testing::as_data(std::string(32, 'k'))); });
  REQUIRE(s.sm->auth().enabled());

  for (auto action : {wire::AlarmAction::RAISE, wire::AlarmAction::DISARM, wire::AlarmAction::LIST}) {
    Built b(alarm(action, 7));
    // alice may write every key under /, yet not touch alarms.
    auto denied = authorize(s.sm->auth(), s.sm->lessor(), "alice", b.get());
    REQUIRE(denied.has_value());
    CHECK(denied->code == wire::ErrorCode::PERMISSION_DENIED);
    CHECK(denied->message.find("alarm") != std::string::npos);
    CHECK(authorize(s.sm->auth(), s.sm->lessor(), "", b.get()).has_value());
    CHECK_FALSE(authorize(s.sm->auth(), s.sm->lessor(), "root", b.get()).has_value());
  }
  Built put(testing::put("/k", "v"));
  CHECK_FALSE(authorize(s.sm->auth(), s.sm->lessor(), "alice", put.get()).has_value());
}
