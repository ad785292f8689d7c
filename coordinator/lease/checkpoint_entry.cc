#include "coordinator/lease/checkpoint_entry.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "coordinator/base/check.h"
#include "schema/records.capnp.h"

namespace corral::lease {
namespace {

constexpr char kVersion = 1;
constexpr size_t kHeaderBytes = 2;

Error bad(const std::string& why) {
  return make_error(ErrorCode::kBadRequest, "lease checkpoint entry: " + why);
}

}  // namespace

bool is_checkpoint_entry(std::string_view data) {
  return data.size() >= kHeaderBytes && data[0] == kCheckpointEntryMagic && data[1] == kVersion;
}

std::string encode_checkpoint_entry(uint64_t proposer, const CheckpointBatch& batch) {
  CORRAL_CHECK(batch.sequence > 0);
  CORRAL_CHECK(batch.checkpoints.size() <= kMaxCheckpointsPerEntry);
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::records::LeaseCheckpointBatch>();
  root.setProposer(proposer);
  root.setSequence(batch.sequence);
  auto list = root.initCheckpoints(static_cast<unsigned>(batch.checkpoints.size()));
  for (size_t i = 0; i < batch.checkpoints.size(); ++i) {
    list[i].setId(batch.checkpoints[i].id);
    list[i].setRemainingMs(batch.checkpoints[i].remaining_ms);
  }
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  std::string out;
  out.reserve(kHeaderBytes + bytes.size());
  out.push_back(kCheckpointEntryMagic);
  out.push_back(kVersion);
  out.append(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  CORRAL_CHECK(out.size() <= kMaxCheckpointEntryBytes);
  return out;
}

Result<CheckpointEntry> decode_checkpoint_entry(std::string_view data) {
  if (!is_checkpoint_entry(data)) return bad("wrong magic or version");
  if (data.size() > kMaxCheckpointEntryBytes) return bad("over " + std::to_string(kMaxCheckpointEntryBytes) + " bytes");
  std::string_view body = data.substr(kHeaderBytes);
  if (body.empty() || body.size() % sizeof(capnp::word) != 0) return bad("bad length");
  // Copied: entry data is not word aligned.
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(body.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), body.data(), body.size());
  CheckpointEntry out;
  try {
    capnp::FlatArrayMessageReader reader(words);
    auto root = reader.getRoot<schema::records::LeaseCheckpointBatch>();
    out.proposer = root.getProposer();
    out.batch.sequence = root.getSequence();
    auto list = root.getCheckpoints();
    if (list.size() > kMaxCheckpointsPerEntry) {
      return bad(std::to_string(list.size()) + " checkpoints, over " + std::to_string(kMaxCheckpointsPerEntry));
    }
    out.batch.checkpoints.reserve(list.size());
    for (auto c : list) out.batch.checkpoints.push_back(Checkpoint{c.getId(), c.getRemainingMs()});
  } catch (const kj::Exception& e) {
    return bad(std::string("does not decode: ") + e.getDescription().cStr());
  }
  if (out.batch.sequence == 0) return bad("sequence 0");
  for (const auto& c : out.batch.checkpoints) {
    if (c.id <= 0) return bad("lease id " + std::to_string(c.id));
    if (c.remaining_ms < 0 || c.remaining_ms > kMaxRemainingMs) {
      return bad("remaining " + std::to_string(c.remaining_ms) + " ms out of range");
    }
  }
  return out;
}

}  // namespace corral::lease
