// A state machine on an in-memory engine that applies one request per
// entry, as the node loop would, and hands back the decoded answer.
#pragma once

#include <functional>
#include <memory>

#include <capnp/message.h>

#include "coordinator/api/response.h"
#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "tests/unit/server/test_client.h"

namespace corral::testing {



inline server::StateMachineOptions default_options() {
  server::StateMachineOptions so;
  so.self_id = 1;
  so.answer_all = true;
  return so;
}

struct Applier {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<server::StateMachine> sm;
  uint64_t index = 1;

  explicit Applier(server::StateMachineOptions so = default_options()) {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/applier-test";
    engine = std::move(storage::Engine::open(eo)).value();
    sm = std::move(server::StateMachine::open(*engine, so)).value();
  }

  // Applies one request in its own entry; returns the decoded response.
  testing::Reply apply(const std::function<void(wire::Request::Builder)>& fill) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<wire::Request>();
    r.setId(index);
    fill(r);
    server::CommandWriter w(1);
    w.add(index, api::to_flat_bytes(m));
    storage::WriteBatch batch;
    server::ApplyOutput out;
    sm->apply_entry(raft::Entry{1, index++, raft::EntryType::kNormal, w.take()}, batch, out);
    REQUIRE(engine->write(std::move(batch), false).ok());
    sm->batch_written();
    REQUIRE(out.answers.size() == 1);
    return testing::Reply(out.answers[0].response);
  }
};

}  // namespace corral::testing
