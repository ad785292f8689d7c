// Raft value types <-> their Cap'n Proto records (schema/raft.capnp), for
// the disk (RaftLogStore) and the peer wire (net/).
//
// A record is one flat Cap'n Proto message (segment table + segments). The
// decoders take bytes from a disk or a peer: garbage, truncation or values
// out of range give an Error (kBadRequest) and never crash or throw. The
// bytes need not be 8-byte aligned (they are copied when they are not).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/raft/types.h"

namespace corral::storage {

// Index and term of the entry just before the first one kept in the log.
struct LogMark {
  raft::Index index = 0;
  raft::Term term = 0;

  bool operator==(const LogMark&) const = default;
};

std::string encode_entry(const raft::Entry& entry);
Result<raft::Entry> decode_entry(std::string_view bytes);

std::string encode_hard_state(const raft::HardState& hs);
Result<raft::HardState> decode_hard_state(std::string_view bytes);

// Decoding checks that voters and learners are sorted, unique and disjoint.
std::string encode_conf_state(const raft::ConfState& cs);
Result<raft::ConfState> decode_conf_state(std::string_view bytes);

std::string encode_snapshot_metadata(const raft::SnapshotMetadata& meta);
Result<raft::SnapshotMetadata> decode_snapshot_metadata(std::string_view bytes);

std::string encode_snapshot(const raft::Snapshot& snapshot);
Result<raft::Snapshot> decode_snapshot(std::string_view bytes);

// The Cap'n Proto form of a ConfChange (for requests and tools). Not the
// format inside kConfChange entries: raft owns that one (raft::encode_conf_change).
std::string encode_conf_change_record(const raft::ConfChange& cc);
Result<raft::ConfChange> decode_conf_change_record(std::string_view bytes);

std::string encode_log_mark(const LogMark& mark);
Result<LogMark> decode_log_mark(std::string_view bytes);

std::string encode_message(const raft::Message& message);
Result<raft::Message> decode_message(std::string_view bytes);

}  // namespace corral::storage
