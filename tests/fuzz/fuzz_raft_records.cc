// Raft's stored and replicated records, as a member reads them back from
// its disk or a peer (storage/raft_records.h: log entries, hard state, conf
// state, snapshot metadata, snapshots, conf changes, the log mark, raft
// messages), and what a committed entry's data holds (server/command.h:
// commands, conf-change contexts, attributes; lease checkpoint entries;
// raft's own conf-change encoding). A normal entry that decodes is then
// applied to a state machine (an in-memory RocksDB), as a follower does.
//
// Input: u8 selector | record bytes.
#include <memory>

#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/raft/types.h"
#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_records.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

namespace {

// Kept across inputs (opening RocksDB per input would be most of the time);
// started again every kRunsPerStateMachine inputs so that memory stays bounded.
constexpr int kRunsPerStateMachine = 2000;

struct Follower {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<server::StateMachine> sm;
  raft::Index next_index = 1;
  int runs = 0;

  void reset() {
    sm.reset();
    engine.reset();
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/fuzz-raft-records";
    engine = std::move(storage::Engine::open(eo)).value();
    server::StateMachineOptions so;
    so.self_id = 1;
    so.answer_all = true;
    sm = std::move(server::StateMachine::open(*engine, so)).value();
    next_index = sm->applied_index() + 1;
    runs = 0;
  }

  void apply(raft::Entry entry) {
    if (!sm || ++runs > kRunsPerStateMachine) reset();
    entry.index = next_index++;
    storage::WriteBatch batch;
    server::ApplyOutput out;
    sm->apply_entry(entry, batch, out);
    if (!out.unreadable.empty()) {
      // A format or request kind this binary does not know: the member stops
      // there (apply_version.h), writing nothing. If an item before it in the
      // entry was applied in memory, start afresh as a restart would.
      FUZZ_CHECK(out.unreadable_index == entry.index);
      if (sm->applied_index() == entry.index - 1) {
        --next_index;  // nothing of it applied: the next entry takes its index
      } else {
        sm.reset();
      }
      return;
    }
    FUZZ_CHECK(engine->write(std::move(batch), false).ok());
    sm->batch_written();
    FUZZ_CHECK(sm->applied_index() == entry.index);
  }
};

// Never destroyed: RocksDB's own statics may be gone at exit.
Follower& follower() {
  static Follower* f = new Follower;
  return *f;
}

void check_entry_data(const raft::Entry& e) {
  const std::string_view data = e.data;
  if (e.type == raft::EntryType::kConfChange) {
    if (auto cc = raft::decode_conf_change(e.data)) {
      auto again = raft::decode_conf_change(raft::encode_conf_change(*cc));
      FUZZ_CHECK(again && *again == *cc);
      if (auto ctx = server::decode_conf_context(cc->context); ctx.ok()) {
        auto back = server::decode_conf_context(server::encode_conf_context(*ctx));
        FUZZ_CHECK(back.ok() && back->proposer == ctx->proposer && back->proposal_id == ctx->proposal_id &&
                   back->member == ctx->member);
      }
    }
    return;
  }
  if (auto cmd = server::decode_command(data); cmd.ok()) {
    FUZZ_CHECK(!cmd->items.empty() && cmd->items.size() <= server::kMaxRequestsPerEntry);
    server::CommandWriter w(cmd->proposer);
    for (const auto& item : cmd->items) w.add(item.proposal_id, item.request, item.stamp);
    // Version 1 entries come back as version 2: compare the items.
    const std::string again = w.take();
    auto back = server::decode_command(again);
    FUZZ_CHECK(back.ok() && back->items.size() == cmd->items.size());
    for (size_t i = 0; back.ok() && i < back->items.size(); ++i) {
      const auto& a = cmd->items[i];
      const auto& b = back->items[i];
      FUZZ_CHECK(a.proposal_id == b.proposal_id && a.request == b.request && a.stamp.has_value() == b.stamp.has_value());
      if (a.stamp && b.stamp) FUZZ_CHECK(a.stamp->user == b.stamp->user && a.stamp->auth_revision == b.stamp->auth_revision);
    }
  }
  if (lease::is_checkpoint_entry(data)) {
    if (auto cp = lease::decode_checkpoint_entry(data); cp.ok()) {
      auto back = lease::decode_checkpoint_entry(lease::encode_checkpoint_entry(cp->proposer, cp->batch));
      FUZZ_CHECK(back.ok() && back->proposer == cp->proposer && back->batch.sequence == cp->batch.sequence &&
                 back->batch.checkpoints == cp->batch.checkpoints);
    }
  }
  follower().apply(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  switch (data[0] % 9) {
    case 0: {
      fuzz::check_round_trip_equal(bytes, storage::decode_entry, storage::encode_entry);
      if (auto e = storage::decode_entry(bytes); e.ok()) check_entry_data(*e);
      break;
    }
    case 1: fuzz::check_round_trip_equal(bytes, storage::decode_hard_state, storage::encode_hard_state); break;
    case 2: fuzz::check_round_trip_equal(bytes, storage::decode_conf_state, storage::encode_conf_state); break;
    case 3:
      fuzz::check_round_trip_equal(bytes, storage::decode_snapshot_metadata, storage::encode_snapshot_metadata);
      break;
    case 4: fuzz::check_round_trip_equal(bytes, storage::decode_snapshot, storage::encode_snapshot); break;
    case 5:
      fuzz::check_round_trip_equal(bytes, storage::decode_conf_change_record, storage::encode_conf_change_record);
      break;
    case 6: fuzz::check_round_trip_equal(bytes, storage::decode_log_mark, storage::encode_log_mark); break;
    case 7: fuzz::check_round_trip_equal(bytes, storage::decode_message, storage::encode_message); break;
    case 8: {
      // Raw entry data, without the record around it: what apply sees.
      raft::Entry e;
      e.term = 1;
      e.data = std::string(bytes);
      check_entry_data(e);
      break;
    }
  }
  return 0;
}
