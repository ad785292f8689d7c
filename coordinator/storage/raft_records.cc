#include "coordinator/storage/raft_records.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include "schema/data_bytes.h"
#include "schema/raft.capnp.h"

namespace corral::storage {

namespace sch = corral::schema::raft;

namespace {

constexpr size_t kWordBytes = sizeof(capnp::word);
// Traversal budget per word of input: a well-formed record is read once,
// so a few times its size is plenty and still stops pointer-aliasing
// amplification in hostile input.
constexpr uint64_t kTraversalWordsPerInputWord = 4;
constexpr uint64_t kTraversalSlackWords = 64;
// Our records nest at most Message > Snapshot > Metadata > ConfState > list.
constexpr int kNestingLimit = 16;
// Words per record beyond its payload bytes (header, pointers, small fields).
constexpr size_t kRecordOverheadWords = 32;
constexpr size_t kEntryOverheadWords = 8;

Error bad(const char* what, std::string detail) {
  return make_error(ErrorCode::kBadRequest, std::string("bad ") + what + " record: " + detail);
}

size_t words_for(size_t bytes) { return (bytes + kWordBytes - 1) / kWordBytes; }

// Builds a message with `fill(root builder)` and serialises it flat.
template <typename Builder, typename Fill>
std::string encode(size_t payload_bytes, Fill&& fill) {
  capnp::MallocMessageBuilder message(
      static_cast<unsigned>(words_for(payload_bytes) + kRecordOverheadWords));
  fill(message.initRoot<typename Builder::Builds>());
  std::string out(capnp::computeSerializedSizeInWords(message) * kWordBytes, '\0');
  kj::ArrayOutputStream stream(
      kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, message);
  return out;
}

// Reads the root of a flat message with `convert(root reader)`, which
// returns Result<T>. Every Cap'n Proto exception stops here.
template <typename Reader, typename T, typename Convert>
Result<T> decode(std::string_view bytes, const char* what, Convert&& convert) {
  if (bytes.empty()) return bad(what, "empty");
  if (bytes.size() % kWordBytes != 0) return bad(what, "size not a multiple of 8 bytes");
  kj::Array<capnp::word> copy;
  const capnp::word* words = reinterpret_cast<const capnp::word*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) != 0) {
    copy = kj::heapArray<capnp::word>(bytes.size() / kWordBytes);
    std::memcpy(copy.begin(), bytes.data(), bytes.size());
    words = copy.begin();
  }
  kj::ArrayPtr<const capnp::word> array(words, bytes.size() / kWordBytes);
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords =
        array.size() * kTraversalWordsPerInputWord + kTraversalSlackWords;
    options.nestingLimit = kNestingLimit;
    capnp::FlatArrayMessageReader reader(array, options);
    if (reader.getEnd() != array.end()) return bad(what, "trailing bytes");
    return convert(reader.getRoot<typename Reader::Reads>());
  } catch (const kj::Exception& e) {
    return bad(what, e.getDescription().cStr());
  }
}

// ---- per-type conversion ----

void fill_entry(sch::Entry::Builder b, const raft::Entry& e) {
  b.setTerm(e.term);
  b.setIndex(e.index);
  b.setType(static_cast<sch::EntryType>(e.type));
  b.setData(schema::as_data(e.data));
}

Result<raft::Entry> read_entry(sch::Entry::Reader r) {
  auto type = static_cast<uint16_t>(r.getType());
  if (type > static_cast<uint16_t>(raft::EntryType::kConfChange)) {
    return bad("entry", "unknown entry type " + std::to_string(type));
  }
  raft::Entry e;
  e.term = r.getTerm();
  e.index = r.getIndex();
  e.type = static_cast<raft::EntryType>(type);
  e.data = schema::as_string(r.getData());
  return e;
}

void fill_hard_state(sch::HardState::Builder b, const raft::HardState& hs) {
  b.setTerm(hs.term);
  b.setVote(hs.vote);
  b.setCommit(hs.commit);
}

raft::HardState read_hard_state(sch::HardState::Reader r) {
  return raft::HardState{r.getTerm(), r.getVote(), r.getCommit()};
}

void fill_ids(capnp::List<uint64_t>::Builder b, const std::vector<raft::NodeId>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) b.set(static_cast<unsigned>(i), ids[i]);
}

void fill_conf_state(sch::ConfState::Builder b, const raft::ConfState& cs) {
  fill_ids(b.initVoters(static_cast<unsigned>(cs.voters.size())), cs.voters);
  fill_ids(b.initLearners(static_cast<unsigned>(cs.learners.size())), cs.learners);
}

bool strictly_sorted(const std::vector<raft::NodeId>& ids) {
  return std::adjacent_find(ids.begin(), ids.end(),
                            [](raft::NodeId a, raft::NodeId b) { return a >= b; }) == ids.end();
}

Result<raft::ConfState> read_conf_state(sch::ConfState::Reader r) {
  raft::ConfState cs;
  auto voters = r.getVoters();
  auto learners = r.getLearners();
  cs.voters.reserve(voters.size());
  for (uint64_t id : voters) cs.voters.push_back(id);
  cs.learners.reserve(learners.size());
  for (uint64_t id : learners) cs.learners.push_back(id);
  if (!strictly_sorted(cs.voters)) return bad("conf state", "voters not sorted and unique");
  if (!strictly_sorted(cs.learners)) return bad("conf state", "learners not sorted and unique");
  for (raft::NodeId id : cs.learners) {
    if (std::binary_search(cs.voters.begin(), cs.voters.end(), id)) {
      return bad("conf state", "node " + std::to_string(id) + " is voter and learner");
    }
  }
  for (const auto* list : {&cs.voters, &cs.learners}) {
    if (!list->empty() && list->front() == raft::kNoNode) return bad("conf state", "node id 0");
  }
  return cs;
}

void fill_snapshot_metadata(sch::SnapshotMetadata::Builder b, const raft::SnapshotMetadata& m) {
  b.setIndex(m.index);
  b.setTerm(m.term);
  fill_conf_state(b.initConfState(), m.conf_state);
}

Result<raft::SnapshotMetadata> read_snapshot_metadata(sch::SnapshotMetadata::Reader r) {
  auto cs = read_conf_state(r.getConfState());
  if (!cs.ok()) return cs.error();
  return raft::SnapshotMetadata{r.getIndex(), r.getTerm(), std::move(cs).value()};
}

void fill_snapshot(sch::Snapshot::Builder b, const raft::Snapshot& s) {
  fill_snapshot_metadata(b.initMetadata(), s.metadata);
  b.setData(schema::as_data(s.data));
}

Result<raft::Snapshot> read_snapshot(sch::Snapshot::Reader r) {
  auto meta = read_snapshot_metadata(r.getMetadata());
  if (!meta.ok()) return meta.error();
  return raft::Snapshot{std::move(meta).value(), schema::as_string(r.getData())};
}

size_t ids_bytes(const raft::ConfState& cs) {
  return (cs.voters.size() + cs.learners.size()) * sizeof(raft::NodeId);
}

}  // namespace

std::string encode_entry(const raft::Entry& entry) {
  return encode<sch::Entry::Builder>(entry.data.size(),
                                     [&](sch::Entry::Builder b) { fill_entry(b, entry); });
}

Result<raft::Entry> decode_entry(std::string_view bytes) {
  return decode<sch::Entry::Reader, raft::Entry>(bytes, "entry", read_entry);
}

std::string encode_hard_state(const raft::HardState& hs) {
  return encode<sch::HardState::Builder>(0, [&](auto b) { fill_hard_state(b, hs); });
}

Result<raft::HardState> decode_hard_state(std::string_view bytes) {
  return decode<sch::HardState::Reader, raft::HardState>(
      bytes, "hard state", [](auto r) -> Result<raft::HardState> { return read_hard_state(r); });
}

std::string encode_conf_state(const raft::ConfState& cs) {
  return encode<sch::ConfState::Builder>(ids_bytes(cs),
                                         [&](auto b) { fill_conf_state(b, cs); });
}

Result<raft::ConfState> decode_conf_state(std::string_view bytes) {
  return decode<sch::ConfState::Reader, raft::ConfState>(bytes, "conf state", read_conf_state);
}

std::string encode_snapshot_metadata(const raft::SnapshotMetadata& meta) {
  return encode<sch::SnapshotMetadata::Builder>(
      ids_bytes(meta.conf_state), [&](auto b) { fill_snapshot_metadata(b, meta); });
}

Result<raft::SnapshotMetadata> decode_snapshot_metadata(std::string_view bytes) {
  return decode<sch::SnapshotMetadata::Reader, raft::SnapshotMetadata>(
      bytes, "snapshot metadata", read_snapshot_metadata);
}

std::string encode_snapshot(const raft::Snapshot& snapshot) {
  return encode<sch::Snapshot::Builder>(snapshot.data.size() + ids_bytes(snapshot.metadata.conf_state),
                                        [&](auto b) { fill_snapshot(b, snapshot); });
}

Result<raft::Snapshot> decode_snapshot(std::string_view bytes) {
  return decode<sch::Snapshot::Reader, raft::Snapshot>(bytes, "snapshot", read_snapshot);
}

std::string encode_conf_change_record(const raft::ConfChange& cc) {
  return encode<sch::ConfChange::Builder>(cc.context.size(), [&](sch::ConfChange::Builder b) {
    b.setType(static_cast<sch::ConfChangeType>(cc.type));
    b.setNodeId(cc.node_id);
    b.setContext(schema::as_data(cc.context));
  });
}

Result<raft::ConfChange> decode_conf_change_record(std::string_view bytes) {
  return decode<sch::ConfChange::Reader, raft::ConfChange>(
      bytes, "conf change", [](sch::ConfChange::Reader r) -> Result<raft::ConfChange> {
        auto type = static_cast<uint16_t>(r.getType());
        if (type > static_cast<uint16_t>(raft::ConfChangeType::kRemoveNode)) {
          return bad("conf change", "unknown type " + std::to_string(type));
        }
        return raft::ConfChange{static_cast<raft::ConfChangeType>(type), r.getNodeId(),
                                schema::as_string(r.getContext())};
      });
}

std::string encode_log_mark(const LogMark& mark) {
  return encode<sch::LogMark::Builder>(0, [&](sch::LogMark::Builder b) {
    b.setIndex(mark.index);
    b.setTerm(mark.term);
  });
}

Result<LogMark> decode_log_mark(std::string_view bytes) {
  return decode<sch::LogMark::Reader, LogMark>(
      bytes, "log mark",
      [](sch::LogMark::Reader r) -> Result<LogMark> { return LogMark{r.getIndex(), r.getTerm()}; });
}

std::string encode_message(const raft::Message& m) {
  size_t payload = m.context.size();
  for (const auto& e : m.entries) payload += e.data.size() + kEntryOverheadWords * kWordBytes;
  if (m.snapshot) payload += m.snapshot->data.size() + ids_bytes(m.snapshot->metadata.conf_state);
  return encode<sch::Message::Builder>(payload, [&](sch::Message::Builder b) {
    b.setType(static_cast<sch::MessageType>(m.type));
    b.setFrom(m.from);
    b.setTo(m.to);
    b.setTerm(m.term);
    b.setLogTerm(m.log_term);
    b.setIndex(m.index);
    b.setCommit(m.commit);
    b.setReject(m.reject);
    b.setRejectHint(m.reject_hint);
    b.setAckNotNeeded(m.ack_not_needed);
    b.setLeasePromiseMs(m.lease_promise_ms);
    auto entries = b.initEntries(static_cast<unsigned>(m.entries.size()));
    for (size_t i = 0; i < m.entries.size(); ++i) {
      fill_entry(entries[static_cast<unsigned>(i)], m.entries[i]);
    }
    if (m.snapshot) {
      fill_snapshot(b.initSnapshot().initSome(), *m.snapshot);
    } else {
      b.initSnapshot().setNone();
    }
    b.setContext(schema::as_data(m.context));
  });
}

Result<raft::Message> decode_message(std::string_view bytes) {
  return decode<sch::Message::Reader, raft::Message>(
      bytes, "message", [](sch::Message::Reader r) -> Result<raft::Message> {
        auto type = static_cast<uint16_t>(r.getType());
        if (type > static_cast<uint16_t>(raft::MessageType::kTransferLeader)) {
          return bad("message", "unknown type " + std::to_string(type));
        }
        raft::Message m;
        m.type = static_cast<raft::MessageType>(type);
        m.from = r.getFrom();
        m.to = r.getTo();
        m.term = r.getTerm();
        m.log_term = r.getLogTerm();
        m.index = r.getIndex();
        m.commit = r.getCommit();
        m.reject = r.getReject();
        m.reject_hint = r.getRejectHint();
        m.ack_not_needed = r.getAckNotNeeded();
        m.lease_promise_ms = r.getLeasePromiseMs();
        auto entries = r.getEntries();
        m.entries.reserve(entries.size());
        for (auto e : entries) {
          auto entry = read_entry(e);
          if (!entry.ok()) return entry.error();
          m.entries.push_back(std::move(entry).value());
        }
        auto snapshot = r.getSnapshot();
        switch (snapshot.which()) {
          case sch::Message::Snapshot::NONE: break;
          case sch::Message::Snapshot::SOME: {
            auto s = read_snapshot(snapshot.getSome());
            if (!s.ok()) return s.error();
            m.snapshot = std::move(s).value();
            break;
          }
          default: return bad("message", "unknown snapshot variant");
        }
        m.context = schema::as_string(r.getContext());
        return m;
      });
}

}  // namespace corral::storage
