#include "coordinator/storage/raft_records.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "schema/raft.capnp.h"

namespace corral::storage {
namespace {

namespace sch = corral::schema::raft;

constexpr uint64_t kSeed = 20261124;

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

raft::Entry random_entry(std::mt19937_64& rng, raft::Index index) {
  raft::Entry e;
  e.term = rng() % 1000 + 1;
  e.index = index;
  e.type = rng() % 2 ? raft::EntryType::kNormal : raft::EntryType::kConfChange;
  e.data = random_bytes(rng, rng() % 300);
  return e;
}

raft::ConfState sample_conf_state() { return raft::ConfState{{1, 2, 7}, {4, 9}}; }

raft::Snapshot sample_snapshot(std::mt19937_64& rng) {
  return raft::Snapshot{raft::SnapshotMetadata{12345, 17, sample_conf_state()},
                        random_bytes(rng, 5000)};
}

raft::Message sample_message(std::mt19937_64& rng, bool with_snapshot) {
  raft::Message m;
  m.type = with_snapshot ? raft::MessageType::kSnapshot : raft::MessageType::kAppend;
  m.from = 3;
  m.to = 5;
  m.term = 42;
  m.log_term = 41;
  m.index = 1000;
  m.commit = 998;
  m.reject = true;
  m.reject_hint = 77;
  m.ack_not_needed = true;
  m.lease_promise_ms = 180;
  for (raft::Index i = 1001; i < 1011; ++i) m.entries.push_back(random_entry(rng, i));
  if (with_snapshot) m.snapshot = sample_snapshot(rng);
  m.context = random_bytes(rng, 13);
  return m;
}

// Every decoder, by name, applied to raw bytes: ok or a typed error.
struct Decoder {
  const char* name;
  std::function<bool(std::string_view)> decode_ok;
};

std::vector<Decoder> all_decoders() {
  return {
      {"entry", [](std::string_view b) { return decode_entry(b).ok(); }},
      {"hard state", [](std::string_view b) { return decode_hard_state(b).ok(); }},
      {"conf state", [](std::string_view b) { return decode_conf_state(b).ok(); }},
      {"snapshot metadata", [](std::string_view b) { return decode_snapshot_metadata(b).ok(); }},
      {"snapshot", [](std::string_view b) { return decode_snapshot(b).ok(); }},
      {"conf change", [](std::string_view b) { return decode_conf_change_record(b).ok(); }},
      {"log mark", [](std::string_view b) { return decode_log_mark(b).ok(); }},
      {"message", [](std::string_view b) { return decode_message(b).ok(); }},
  };
}

// A flat message whose root was filled by `fill`, for hand-made bad records.
template <typename Builder, typename Fill>
std::string raw_record(Fill fill) {
  capnp::MallocMessageBuilder message;
  fill(message.initRoot<typename Builder::Builds>());
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

}  // namespace

TEST_CASE("raft records: every type round-trips", "[raft_records]") {
  std::mt19937_64 rng(kSeed);
  for (raft::Index i = 1; i <= 50; ++i) {
    raft::Entry e = random_entry(rng, i * 977);
    auto back = decode_entry(encode_entry(e));
    REQUIRE(back.ok());
    CHECK(back.value() == e);
  }
  raft::Entry empty_entry;
  CHECK(decode_entry(encode_entry(empty_entry)).value() == empty_entry);

  raft::HardState hs{9, 3, UINT64_MAX};
  CHECK(decode_hard_state(encode_hard_state(hs)).value() == hs);

  for (const raft::ConfState& cs : {raft::ConfState{}, sample_conf_state()}) {
    auto back = decode_conf_state(encode_conf_state(cs));
    REQUIRE(back.ok());
    CHECK(back.value() == cs);
  }

  raft::SnapshotMetadata meta{55, 4, sample_conf_state()};
  CHECK(decode_snapshot_metadata(encode_snapshot_metadata(meta)).value() == meta);

  raft::Snapshot snap = sample_snapshot(rng);
  CHECK(decode_snapshot(encode_snapshot(snap)).value() == snap);

  for (auto type : {raft::ConfChangeType::kAddNode, raft::ConfChangeType::kAddLearner,
                    raft::ConfChangeType::kRemoveNode}) {
    raft::ConfChange cc{type, 12, "tcp://127.0.0.1:2380"};
    CHECK(decode_conf_change_record(encode_conf_change_record(cc)).value() == cc);
  }

  LogMark mark{88, 6};
  CHECK(decode_log_mark(encode_log_mark(mark)).value() == mark);

  for (bool with_snapshot : {false, true}) {
    raft::Message m = sample_message(rng, with_snapshot);
    auto back = decode_message(encode_message(m));
    REQUIRE(back.ok());
    CHECK(back.value() == m);
  }
  for (int t = 0; t <= static_cast<int>(raft::MessageType::kTransferLeader); ++t) {
    raft::Message m;
    m.type = static_cast<raft::MessageType>(t);
    CHECK(decode_message(encode_message(m)).value() == m);
  }
}

TEST_CASE("raft records: unaligned input decodes the same", "[raft_records]") {
  std::mt19937_64 rng(kSeed + 1);
  raft::Message m = sample_message(rng, true);
  const std::string encoded = encode_message(m);
  for (size_t shift = 1; shift < 8; ++shift) {
    std::string buffer(shift, 'x');
    buffer += encoded;
    std::string_view view(buffer.data() + shift, encoded.size());
    auto back = decode_message(view);
    REQUIRE(back.ok());
    CHECK(back.value() == m);
  }
}

TEST_CASE("raft records: truncated or extended records are rejected", "[raft_records]") {
  std::mt19937_64 rng(kSeed + 2);
  const std::vector<std::pair<std::string, std::function<bool(std::string_view)>>> cases = {
      {encode_message(sample_message(rng, true)),
       [](std::string_view b) { return decode_message(b).ok(); }},
      {encode_entry(random_entry(rng, 3)), [](std::string_view b) { return decode_entry(b).ok(); }},
      {encode_snapshot_metadata({5, 2, sample_conf_state()}),
       [](std::string_view b) { return decode_snapshot_metadata(b).ok(); }},
  };
  for (const auto& [encoded, decode_ok] : cases) {
    REQUIRE(decode_ok(encoded));
    for (size_t n = 0; n < encoded.size(); ++n) {
      INFO("prefix of " << n << " bytes of " << encoded.size());
      CHECK_FALSE(decode_ok(std::string_view(encoded).substr(0, n)));
    }
    CHECK_FALSE(decode_ok(encoded + std::string(8, '\0')));
    CHECK_FALSE(decode_ok(encoded + "x"));
  }
}

TEST_CASE("raft records: random garbage and bit flips never crash", "[raft_records]") {
  std::mt19937_64 rng(kSeed + 3);
  constexpr int kRandomInputs = 2000;
  constexpr size_t kMaxGarbageBytes = 256;
  int accepted = 0;
  for (const auto& decoder : all_decoders()) {
    for (int i = 0; i < kRandomInputs; ++i) {
      const size_t n = rng() % kMaxGarbageBytes;
      const std::string garbage = random_bytes(rng, n);
      const bool ok = decoder.decode_ok(garbage);
      if (n % 8 != 0 || n == 0) CHECK_FALSE(ok);
      accepted += ok ? 1 : 0;
    }
  }
  // Random segment tables almost never describe exactly the bytes given.
  CHECK(accepted < kRandomInputs / 10);

  const std::string encoded = encode_message(sample_message(rng, true));
  int flips_decoded = 0;
  for (size_t i = 0; i < encoded.size(); i += 3) {
    std::string flipped = encoded;
    flipped[i] = static_cast<char>(flipped[i] ^ (1 << (i % 8)));
    auto result = decode_message(flipped);
    if (result.ok()) {
      ++flips_decoded;
    } else {
      CHECK(result.error().code == ErrorCode::kBadRequest);
    }
  }
  // Most flips land in payload bytes and still decode: the loop ran.
  CHECK(flips_decoded > 0);
}

TEST_CASE("raft records: out-of-range values are typed errors", "[raft_records]") {
  auto bad_entry = raw_record<sch::Entry::Builder>(
      [](sch::Entry::Builder b) { b.setType(static_cast<sch::EntryType>(7)); });
  auto entry = decode_entry(bad_entry);
  REQUIRE_FALSE(entry.ok());
  CHECK(entry.error().code == ErrorCode::kBadRequest);
  CHECK(entry.error().message.find("entry type") != std::string::npos);

  auto bad_message = raw_record<sch::Message::Builder>(
      [](sch::Message::Builder b) { b.setType(static_cast<sch::MessageType>(13)); });
  CHECK_FALSE(decode_message(bad_message).ok());

  auto bad_cc = raw_record<sch::ConfChange::Builder>(
      [](sch::ConfChange::Builder b) { b.setType(static_cast<sch::ConfChangeType>(3)); });
  CHECK_FALSE(decode_conf_change_record(bad_cc).ok());

  auto conf = [](std::vector<uint64_t> voters, std::vector<uint64_t> learners) {
    return raw_record<sch::ConfState::Builder>([&](sch::ConfState::Builder b) {
      auto v = b.initVoters(static_cast<unsigned>(voters.size()));
      for (unsigned i = 0; i < voters.size(); ++i) v.set(i, voters[i]);
      auto l = b.initLearners(static_cast<unsigned>(learners.size()));
      for (unsigned i = 0; i < learners.size(); ++i) l.set(i, learners[i]);
    });
  };
  CHECK(decode_conf_state(conf({1, 2}, {3})).ok());
  CHECK_FALSE(decode_conf_state(conf({2, 1}, {})).ok());   // unsorted
  CHECK_FALSE(decode_conf_state(conf({1, 1}, {})).ok());   // duplicate
  CHECK_FALSE(decode_conf_state(conf({1, 2}, {2})).ok());  // voter and learner
  CHECK_FALSE(decode_conf_state(conf({0, 1}, {})).ok());   // node id 0

  // A snapshot message whose conf state is bad fails as a whole.
  auto bad_snapshot = raw_record<sch::Message::Builder>([](sch::Message::Builder b) {
    b.setType(sch::MessageType::SNAPSHOT);
    auto voters = b.initSnapshot().initSome().initMetadata().initConfState().initVoters(2);
    voters.set(0, 5);
    voters.set(1, 4);
  });
  CHECK_FALSE(decode_message(bad_snapshot).ok());
}

TEST_CASE("raft records: the lease promise fits the message's existing data section", "[raft_records]") {
  // Same size with and without it: the field takes a slot older members
  // left zero, so their messages read as "no promise", and no message grows.
  raft::Message m;
  m.type = raft::MessageType::kHeartbeatResponse;
  m.from = 2;
  m.to = 1;
  m.term = 7;
  m.context = std::string(8, '\x01');
  const std::string without = encode_message(m);
  m.lease_promise_ms = 65535;
  const std::string with = encode_message(m);
  CHECK(with.size() == without.size());
  CHECK(decode_message(with).value().lease_promise_ms == 65535);
  CHECK(decode_message(without).value().lease_promise_ms == 0);
}

}  // namespace corral::storage
