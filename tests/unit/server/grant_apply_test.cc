// The cost side of applying lease grant batches: what one entry stages
// (two records per grant with one key, and the kv state record once), and
// how the leader counts the grants of a request to close entries
// (apply_pacing.h).
#include <catch2/catch.hpp>

#include <string>

#include <capnp/message.h>

#include "coordinator/api/limits.h"
#include "coordinator/server/apply_pacing.h"
#include "coordinator/server/command.h"
#include "coordinator/server/state_machine.h"
#include "tests/unit/server/applier.h"

using namespace corral;
using namespace corral::server;
namespace wire = corral::schema::api;

namespace {

std::string grant_batch(uint64_t request_id, int grants) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(request_id);
  auto list = r.initLeaseGrantBatch().initGrants(static_cast<unsigned>(grants));
  for (int i = 0; i < grants; ++i) {
    list[i].setTtl(30);
    auto puts = list[i].initPuts(1);
    puts[0].setKey(testing::as_data("/agents/" + std::to_string(request_id) + "-" + std::to_string(i)));
    puts[0].setValue(testing::as_data("up"));
  }
  return api::to_flat_bytes(m);
}

}  // namespace

TEST_CASE("an entry of grant batches stages two records per grant and the kv state once", "[server][lease][grant-batch]") {
  testing::Applier reg;
  constexpr int kGrants = 300;
  CommandWriter w(1);
  w.add(1, grant_batch(1, kGrants));
  w.add(2, grant_batch(2, kGrants));
  storage::WriteBatch batch;
  ApplyOutput out;
  reg.sm->apply_entry(raft::Entry{1, 5, raft::EntryType::kNormal, w.take()}, batch, out);
  REQUIRE(out.answers.size() == 2);
  // Per grant: its key's kv record and its lease record; then one state
  // record for the entry (not one per grant's revision).
  CHECK(batch.count() == 2 * 2 * kGrants + 1);
  REQUIRE(reg.engine->write(std::move(batch), false).ok());
  reg.sm->batch_written();
  CHECK(reg.sm->applied_index() == 5);
  CHECK(reg.sm->kv().current_revision() == 2 * kGrants);
  CHECK(reg.sm->lessor().size() == 2 * kGrants);
  // What was written is what a restart reads back.
  REQUIRE(reg.sm->reload().ok());
  CHECK(reg.sm->applied_index() == 5);
  CHECK(reg.sm->kv().current_revision() == 2 * kGrants);
  CHECK(reg.sm->lessor().size() == 2 * kGrants);
  kv::RangeOptions count_only;
  count_only.count_only = true;
  auto keys = reg.sm->kv().range("/agents/", "/agents0", count_only);
  REQUIRE(keys.ok());
  CHECK(keys->count == 2 * kGrants);
}

TEST_CASE("grants_in counts the grants a request makes", "[server][lease][grant-batch]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.initPut();
  CHECK(grants_in(r) == 0);
  r.initLeaseGrant().setTtl(10);
  CHECK(grants_in(r) == 1);
  r.initLeaseGrantBatch().initGrants(1234);
  CHECK(grants_in(r) == 1234);
  CHECK(kMaxGrantsPerEntry <= api::kMaxGrantBatchGrants);
}
