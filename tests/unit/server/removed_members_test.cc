// Removed member ids are part of the replicated state: apply records them,
// refuses to add them (or an id in use) again, and a snapshot image carries
// them to a member that restores it.
#include <catch2/catch.hpp>

#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"

using namespace corral;
using namespace corral::server;

namespace {

struct Replica {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<StateMachine> sm;
  raft::Index next_index = 1;

  explicit Replica(const std::string& tag) {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/removed-test-" + tag;
    engine = std::move(storage::Engine::open(eo)).value();
    sm = std::move(StateMachine::open(*engine, StateMachineOptions{})).value();
  }
  // Applies `cc` as the node does: refused ones as a no-op.
  std::optional<std::string> change(raft::ConfChangeType type, uint64_t id, const std::string& name = "m") {
    raft::ConfChange cc;
    cc.type = type;
    cc.node_id = id;
    ConfChangeContext ctx;
    MemberInfo m;
    m.id = id;
    m.name = name;
    m.peer_urls = {"tcp://127.0.0.1:1"};
    ctx.member = encode_member(m);
    cc.context = encode_conf_context(ctx);
    raft::Entry e{1, next_index++, raft::EntryType::kConfChange, raft::encode_conf_change(cc)};
    storage::WriteBatch batch;
    ApplyOutput out;
    auto refusal = sm->conf_change_refusal(cc);
    if (refusal) {
      sm->apply_refused_conf_change(e, cc, *refusal, batch, out);
    } else {
      sm->apply_conf_change(e, cc, batch, out);
    }
    REQUIRE(engine->write(std::move(batch), false).ok());
    sm->batch_written();
    return refusal;
  }
};

}  // namespace

TEST_CASE("removed ids are remembered, refused, and travel in the image", "[server][members]") {
  Replica a("a");
  CHECK_FALSE(a.change(raft::ConfChangeType::kAddNode, 11));
  CHECK_FALSE(a.change(raft::ConfChangeType::kAddLearner, 12));
  CHECK(a.change(raft::ConfChangeType::kAddLearner, 11));  // in use
  CHECK_FALSE(a.change(raft::ConfChangeType::kAddNode, 12));  // promotion
  CHECK(a.change(raft::ConfChangeType::kAddNode, 12));        // a voter already
  CHECK_FALSE(a.change(raft::ConfChangeType::kRemoveNode, 12));
  CHECK(a.change(raft::ConfChangeType::kRemoveNode, 12));     // not a member now
  REQUIRE(a.sm->removed_members().count(12));
  CHECK(a.sm->removed_members().at(12).name == "m");
  CHECK(a.sm->member_id_taken(12));
  // Never back, as a voter or a learner.
  auto again = a.change(raft::ConfChangeType::kAddNode, 12);
  REQUIRE(again);
  CHECK(again->find("removed") != std::string::npos);
  CHECK(a.change(raft::ConfChangeType::kAddLearner, 12));
  CHECK(a.sm->members().size() == 1);
  CHECK(a.sm->applied_index() == a.next_index - 1);

  // A restart reads it back; a snapshot image carries it.
  REQUIRE(a.sm->reload().ok());
  CHECK(a.sm->removed_members().count(12));
  auto image = a.sm->image();
  REQUIRE(image.ok());
  Replica b("b");
  storage::WriteBatch batch;
  REQUIRE(b.sm->stage_restore(*image, batch).ok());
  REQUIRE(b.engine->write(std::move(batch), true).ok());
  REQUIRE(b.sm->reload().ok());
  CHECK(b.sm->removed_members().count(12));
  CHECK(b.sm->conf_change_refusal(raft::ConfChange{raft::ConfChangeType::kAddNode, 12, {}}).has_value());
}
