// Apply determinism: the same committed entries on two fresh stores give the
// same state (byte-equal images) and the same responses.
#include <catch2/catch.hpp>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>

#include "coordinator/api/response.h"
#include "coordinator/server/apply_version.h"
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

struct Member {
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<StateMachine> sm;
  std::vector<std::string> responses;

  explicit Member(uint64_t self) {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/sm-test-" + std::to_string(self);
    engine = std::move(storage::Engine::open(eo)).value();
    StateMachineOptions so;
    so.self_id = self;
    so.answer_all = true;
    sm = std::move(StateMachine::open(*engine, so)).value();
  }
  void apply(const std::vector<raft::Entry>& entries) {
    storage::WriteBatch batch;
    ApplyOutput out;
    for (const auto& e : entries) sm->apply_entry(e, batch, out);
    REQUIRE(engine->write(std::move(batch), false).ok());
    sm->batch_written();
    for (auto& a : out.answers) responses.push_back(a.response);
  }
};

std::vector<raft::Entry> workload() {
  std::vector<raft::Entry> entries;
  uint64_t index = 1;
  uint64_t rid = 1;
  auto entry = [&](std::vector<std::string> reqs) {
    CommandWriter w(1);
    for (auto& r : reqs) w.add(rid, r);
    entries.push_back(raft::Entry{1, index++, raft::EntryType::kNormal, w.take()});
  };
  entries.push_back(raft::Entry{1, index++, raft::EntryType::kNormal, ""});  // leader no-op
  for (int i = 0; i < 20; ++i) {
    entry({request(rid++, testing::put("/k/" + std::to_string(i % 7), "v" + std::to_string(i))),
           request(rid++, testing::put("/other", std::to_string(i)))});
  }
  entry({request(rid++, testing::del("/k/", "/k0"))});
  entry({request(rid++, [](wire::Request::Builder r) { r.initCompaction().setRevision(10); })});
  // Bad commands: an empty key, a compaction in the future, a request that
  // is not Cap'n Proto. Each is an error response, never a crash, and the
  // same on both members. (Entry data of an unknown format stops apply:
  // see the apply-version cases below.)
  entry({request(rid++, testing::put("", "x")),
         request(rid++, [](wire::Request::Builder r) { r.initCompaction().setRevision(1'000'000); }),
         std::string("not capnp")});
  entry({request(rid++, [](wire::Request::Builder r) {
    auto txn = r.initTxn();
    auto c = txn.initCompare(1)[0];
    c.setTarget(wire::Compare::Target::VALUE);
    c.setKey(testing::as_data("/other"));
    c.setValue(testing::as_data("19"));
    txn.initSuccess(1)[0].initPut().setKey(testing::as_data("/txn-ok"));
  })});
  return entries;
}

}  // namespace

TEST_CASE("apply is deterministic", "[server][apply]") {
  Member a(1), b(2);
  auto entries = workload();
  a.apply(entries);
  // The other member applies the same entries in two turns.
  std::vector<raft::Entry> first(entries.begin(), entries.begin() + 9);
  std::vector<raft::Entry> rest(entries.begin() + 9, entries.end());
  b.apply(first);
  b.apply(rest);
  auto ia = a.sm->image();
  auto ib = b.sm->image();
  REQUIRE(ia.ok());
  REQUIRE(ib.ok());
  CHECK(*ia == *ib);
  CHECK(a.sm->applied_index() == entries.back().index);
  CHECK(a.sm->kv().current_revision() == b.sm->kv().current_revision());
  CHECK(a.sm->kv().compact_revision() == 10);

  // Responses equal except the member id in their header.
  REQUIRE(a.responses.size() == b.responses.size());
  REQUIRE(a.responses.size() == 20 * 2 + 1 + 1 + 3 + 1);
  int errors = 0;
  for (size_t i = 0; i < a.responses.size(); ++i) {
    testing::Reply ra(a.responses[i]), rb(b.responses[i]);
    auto x = ra.get().getResponse();
    auto y = rb.get().getResponse();
    CHECK(x.getId() == y.getId());
    CHECK(x.getHeader().getRevision() == y.getHeader().getRevision());
    CHECK(x.which() == y.which());
    if (x.isError()) {
      ++errors;
      CHECK(x.getError().getCode() == y.getError().getCode());
    }
  }
  CHECK(errors == 3);
  // The txn saw /other == "19" and wrote.
  auto last = testing::Reply(a.responses.back());
  REQUIRE(last.get().getResponse().isTxn());
  CHECK(last.get().getResponse().getTxn().getSucceeded());

  // Applying the same entries again changes nothing (replay after a crash).
  a.apply(entries);
  auto again = a.sm->image();
  REQUIRE(again.ok());
  CHECK(*again == *ia);
}

TEST_CASE("an image restores into another store", "[server][apply]") {
  Member a(1), b(2);
  a.apply(workload());
  auto image = a.sm->image();
  REQUIRE(image.ok());
  storage::WriteBatch batch;
  REQUIRE(b.sm->stage_restore(*image, batch).ok());
  REQUIRE(b.engine->write(std::move(batch), true).ok());
  REQUIRE(b.sm->reload().ok());
  CHECK(*b.sm->image() == *image);
  CHECK(b.sm->applied_index() == a.sm->applied_index());
  auto r = b.sm->kv().range("/other");
  REQUIRE(r.ok());
  REQUIRE(r->kvs.size() == 1);
  CHECK(r->kvs[0].value == "19");

  // A broken image stages nothing.
  storage::WriteBatch bad;
  CHECK_FALSE(b.sm->stage_restore(image->substr(0, image->size() / 2), bad).ok());
  CHECK(bad.empty());
  CHECK_FALSE(b.sm->stage_restore("CRLIMG01\x07", bad).ok());
  CHECK(bad.empty());
}

TEST_CASE("a directory whose keys were all deleted is not listed", "[server][apply]") {
  Member a(1);
  std::vector<raft::Entry> entries;
  uint64_t index = 1;
  for (auto key : {"/apps/web/a", "/apps/web/b", "/apps/db/c"}) {
    CommandWriter w(1);
    w.add(index, request(index, testing::put(key, "v")));
    entries.push_back(raft::Entry{1, index++, raft::EntryType::kNormal, w.take()});
  }
  CommandWriter w(1);
  w.add(index, request(index, testing::del("/apps/web/", "/apps/web0")));
  entries.push_back(raft::Entry{1, index++, raft::EntryType::kNormal, w.take()});
  a.apply(entries);
  CHECK(a.sm->kv().current_revision() == 4);
  auto gone = a.sm->kv().range("/apps/web/", "/apps/web0");
  REQUIRE(gone.ok());
  for (auto& kv : gone->kvs) UNSCOPED_INFO("left " << kv.key << " mod " << kv.mod_revision << " ver " << kv.version);
  CHECK(gone->kvs.empty());
  auto list = a.sm->kv().list("/apps");
  REQUIRE(list.ok());
  for (auto& e : list->entries) UNSCOPED_INFO("entry " << e.name << " dir=" << e.is_dir);
  REQUIRE(list->entries.size() == 1);
  CHECK(list->entries[0].name == "db");
}


namespace {

// A put whose union tag names a request kind added after this binary (as a
// newer proposer would write it).
std::string request_of_unknown_kind(uint64_t id) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  r.initPut().setKey(testing::as_data("/newer"));
  const uint32_t at = capnp::Schema::from<wire::Request>().getProto().getStruct().getDiscriminantOffset();
  auto data = m.getRoot<capnp::AnyStruct>().getDataSection();
  REQUIRE(data.size() >= 2 * at + 2);
  data[2 * at] = 250;  // little-endian u16: 250, far past every known kind
  data[2 * at + 1] = 0;
  return api::to_flat_bytes(m);
}

raft::Entry command_entry(uint64_t index, std::vector<std::string> requests) {
  CommandWriter w(1);
  uint64_t pid = 1;
  for (auto& r : requests) w.add(pid++, r);
  return raft::Entry{1, index, raft::EntryType::kNormal, w.take()};
}

}  // namespace

TEST_CASE("an entry of an unknown format stops apply there, applied or answered in no part", "[server][apply]") {
  Member a(1);
  a.apply({raft::Entry{1, 1, raft::EntryType::kNormal, ""}, command_entry(2, {request(1, testing::put("/a", "1"))})});
  REQUIRE(a.sm->applied_index() == 2);
  const int64_t revision = a.sm->kv().current_revision();

  SECTION("a format that is not a command, attributes or checkpoints") {
    storage::WriteBatch batch;
    ApplyOutput out;
    a.sm->apply_entry(raft::Entry{1, 3, raft::EntryType::kNormal, "Z\x07 a newer entry format"}, batch, out);
    a.sm->apply_entry(command_entry(4, {request(2, testing::put("/b", "2"))}), batch, out);
    CHECK(out.unreadable_index == 3);
    CHECK_THAT(out.unreadable, Catch::Contains("unknown format"));
    CHECK(out.answers.empty());
    CHECK(a.sm->applied_index() == 2);
    CHECK(a.sm->kv().current_revision() == revision);
  }
  SECTION("a request kind added after this binary, after one it knows in the same entry") {
    storage::WriteBatch batch;
    ApplyOutput out;
    a.sm->apply_entry(command_entry(3, {request(2, testing::put("/b", "2")), request_of_unknown_kind(3)}), batch, out);
    CHECK(out.unreadable_index == 3);
    CHECK_THAT(out.unreadable, Catch::Contains("unknown request kind 250"));
    // The put before it was staged into `batch` and answered in `out`: the
    // caller (NodeLoop::apply) stops the member before it answers or writes
    // anything of this batch, so a restart applies the whole entry again.
    storage::WriteBatch next;
    ApplyOutput after;
    after.unreadable = out.unreadable;
    a.sm->apply_entry(command_entry(4, {request(4, testing::put("/c", "3"))}), next, after);
    CHECK(after.answers.empty());  // nothing after an unreadable entry applies
  }
}

TEST_CASE("apply version: the cluster's is its lowest member's, unpublished counts as 1", "[server][apply]") {
  std::map<uint64_t, MemberInfo> members;
  members[1] = MemberInfo{1, "m1", {}, {}, false, kApplyVersion};
  members[2] = MemberInfo{2, "m2", {}, {}, false, kApplyVersion};
  CHECK(cluster_apply_version(members) == kApplyVersion);
  members[3] = MemberInfo{3, "old", {}, {}, false, 0};
  CHECK(cluster_apply_version(members) == 1);
  members[1].apply_version = members[2].apply_version = kApplyVersion + 1;
  CHECK_THAT(apply_version_refusal(members, kApplyVersion + 1),
             Catch::Contains("member old applies entries of version 1"));
  // The published version travels in the member record.
  auto back = decode_member(encode_member(members[1]));
  REQUIRE(back.ok());
  CHECK(back->apply_version == kApplyVersion + 1);
  // Every kind this binary proposes needs no more than it applies.
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.initPut();
  CHECK(apply_version_needed(r) == 1);
  r.initLeaseGrantBatch();
  CHECK(apply_version_needed(r) == 2);
  CHECK(apply_version_needed(r) <= kApplyVersion);
}

TEST_CASE("a reload attaches each live leased key to its lease again, and nothing else", "[server][apply]") {
  Member m(1);
  std::vector<raft::Entry> entries;
  uint64_t index = 1, rid = 1;
  auto entry = [&](std::function<void(wire::Request::Builder)> fill) {
    CommandWriter w(1);
    w.add(rid, request(rid, fill));
    ++rid;
    entries.push_back(raft::Entry{1, index++, raft::EntryType::kNormal, w.take()});
  };
  entries.push_back(raft::Entry{1, index++, raft::EntryType::kNormal, ""});
  auto grant = [&](int64_t id, std::vector<std::string> keys) {
    entry([=](wire::Request::Builder r) {
      auto g = r.initLeaseGrant();
      g.setTtl(60);
      g.setId(id);
      auto puts = g.initPuts(static_cast<unsigned>(keys.size()));
      for (unsigned i = 0; i < keys.size(); ++i) {
        puts[i].setKey(testing::as_data(keys[i]));
        puts[i].setValue(testing::as_data("up"));
      }
    });
  };
  grant(101, {"/agents/a", "/agents/b"});
  grant(102, {"/agents/c"});
  entry(testing::put("/agents/b", "plain now"));  // b leaves lease 101
  entry(testing::del("/agents/c"));               // c is gone
  entry(testing::put("/plain", "x"));
  m.apply(entries);
  REQUIRE(m.sm->lessor().lease_of("/agents/a") == 101);
  REQUIRE(m.sm->reload().ok());
  CHECK(m.sm->lessor().lease_of("/agents/a") == 101);
  CHECK(m.sm->lessor().lease_of("/agents/b") == 0);
  CHECK(m.sm->lessor().lease_of("/agents/c") == 0);
  CHECK(m.sm->lessor().lease_of("/plain") == 0);
}
