// The raft entry that carries a batch of lease checkpoints (lessor.h).
//
// Format: u8 'C' | u8 version 1 | a flat schema/records.capnp
// LeaseCheckpointBatch (proposer, sequence, checkpoints). At most
// kMaxCheckpointsPerEntry checkpoints and kMaxCheckpointEntryBytes in all.
// A third kind of normal entry beside server/command.h's commands ('K') and
// member attributes ('A'); only a leader proposes it, no client can.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/lease/lease_types.h"

namespace corral::lease {

inline constexpr char kCheckpointEntryMagic = 'C';

struct CheckpointEntry {
  uint64_t proposer = 0;
  CheckpointBatch batch;
};

bool is_checkpoint_entry(std::string_view data);
// The batch must be within the bounds above (checked).
std::string encode_checkpoint_entry(uint64_t proposer, const CheckpointBatch& batch);
// kBadRequest on a wrong magic or version, an undecodable message, a batch
// past the bounds, a lease id <= 0, a remaining time outside
// [0, kMaxRemainingMs] or a sequence of 0.
Result<CheckpointEntry> decode_checkpoint_entry(std::string_view data);

}  // namespace corral::lease
