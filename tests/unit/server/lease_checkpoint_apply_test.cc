// Lease checkpoint entries in apply (lease/checkpoint_entry.h): stored with
// the lease, kept across a reopen of the store and through a snapshot image,
// a broken entry changes nothing, and only the proposer's own batches of
// its term count as applied for its waiting keep-alives.
#include <catch2/catch.hpp>

#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/server/state_machine.h"
#include "tests/unit/server/applier.h"

using namespace corral;
using namespace corral::server;
namespace wire = corral::schema::api;

namespace {

constexpr lease::LeaseId kLease = 7;

void apply_data(testing::Applier& a, uint64_t term, std::string data) {
  storage::WriteBatch batch;
  ApplyOutput out;
  a.sm->apply_entry(raft::Entry{term, a.index++, raft::EntryType::kNormal, std::move(data)}, batch, out);
  REQUIRE(a.engine->write(std::move(batch), false).ok());
  a.sm->batch_written();
  CHECK(out.answers.empty());
}

void grant(testing::Applier& a, lease::LeaseId id, int64_t ttl) {
  auto reply = a.apply([&](wire::Request::Builder r) {
    auto g = r.initLeaseGrant();
    g.setId(id);
    g.setTtl(ttl);
  });
  REQUIRE(a.sm->lessor().lookup(id) != nullptr);
  (void)reply;
}

}  // namespace

TEST_CASE("a lease checkpoint applies, is stored, and survives a reopen and an image", "[server][lease]") {
  testing::Applier a;
  grant(a, kLease, 10);
  CHECK(a.sm->lessor().lookup(kLease)->remaining_ms == 10'000);  // the grant is a checkpoint
  // Lease 99 was revoked before its checkpoint applied: skipped.
  apply_data(a, 1, lease::encode_checkpoint_entry(2, {1, {{kLease, 4'000}, {99, 100}}}));
  CHECK(a.sm->lessor().lookup(kLease)->remaining_ms == 4'000);
  CHECK(a.sm->lessor().lookup(99) == nullptr);
  const uint64_t applied = a.sm->applied_index();
  CHECK(applied == a.index - 1);

  // A restart reads it back from the store.
  auto reopened = StateMachine::open(*a.engine, testing::default_options());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->lessor().lookup(kLease)->remaining_ms == 4'000);
  CHECK((*reopened)->applied_index() == applied);

  // A snapshot image carries it.
  auto image = a.sm->image();
  REQUIRE(image.ok());
  testing::Applier b;
  storage::WriteBatch restore;
  REQUIRE(b.sm->stage_restore(*image, restore).ok());
  REQUIRE(b.engine->write(std::move(restore), true).ok());
  REQUIRE(b.sm->reload().ok());
  CHECK(b.sm->lessor().lookup(kLease)->remaining_ms == 4'000);

  // A reset (a keep-alive renewed the lease) is stored as 0.
  apply_data(a, 1, lease::encode_checkpoint_entry(2, {2, {{kLease, 0}}}));
  CHECK(a.sm->lessor().lookup(kLease)->remaining_ms == 0);
  auto again = StateMachine::open(*a.engine, testing::default_options());
  REQUIRE(again.ok());
  CHECK((*again)->lessor().lookup(kLease)->remaining_ms == 0);
}

TEST_CASE("a broken lease checkpoint entry changes nothing but the applied index", "[server][lease]") {
  testing::Applier a;
  grant(a, kLease, 10);
  auto before = a.sm->image();
  REQUIRE(before.ok());
  std::string broken = lease::encode_checkpoint_entry(2, {1, {{kLease, 1}}});
  broken.resize(broken.size() - 8);
  apply_data(a, 1, broken);
  apply_data(a, 1, std::string("C\x01") + std::string(16, '\x7f'));
  CHECK(a.sm->lessor().lookup(kLease)->remaining_ms == 10'000);
  CHECK(a.sm->applied_index() == a.index - 1);
  // Only the applied index moved.
  auto mark = a.sm->kv().current_revision();
  CHECK(mark == 0);
}

TEST_CASE("only the leader's own checkpoint batches of its term release its keep-alives", "[server][lease]") {
  testing::Applier a;  // member id 1
  grant(a, kLease, 10);
  a.sm->lessor().promote(0, 3);
  apply_data(a, 3, lease::encode_checkpoint_entry(2, {4, {{kLease, 0}}}));  // another member's
  CHECK(a.sm->lessor().applied_sequence() == 0);
  apply_data(a, 2, lease::encode_checkpoint_entry(1, {5, {{kLease, 0}}}));  // ours, an older term
  CHECK(a.sm->lessor().applied_sequence() == 0);
  apply_data(a, 3, lease::encode_checkpoint_entry(1, {2, {{kLease, 0}}}));
  CHECK(a.sm->lessor().applied_sequence() == 2);
}
