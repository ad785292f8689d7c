#include "coordinator/raft/types.h"

namespace corral::raft {

const char* role_name(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "unknown role";
}

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kAppend: return "Append";
    case MessageType::kAppendResponse: return "AppendResponse";
    case MessageType::kRequestVote: return "RequestVote";
    case MessageType::kRequestVoteResponse: return "RequestVoteResponse";
    case MessageType::kRequestPreVote: return "RequestPreVote";
    case MessageType::kRequestPreVoteResponse: return "RequestPreVoteResponse";
    case MessageType::kHeartbeat: return "Heartbeat";
    case MessageType::kHeartbeatResponse: return "HeartbeatResponse";
    case MessageType::kSnapshot: return "Snapshot";
    case MessageType::kReadIndex: return "ReadIndex";
    case MessageType::kReadIndexResponse: return "ReadIndexResponse";
    case MessageType::kTimeoutNow: return "TimeoutNow";
    case MessageType::kTransferLeader: return "TransferLeader";
  }
  return "unknown message type";
}

// ConfChange wire format (little-endian, fixed layout):
//   byte 0      format version (kConfChangeFormatVersion)
//   byte 1      ConfChangeType
//   bytes 2-9   node_id (uint64)
//   bytes 10-13 context length in bytes (uint32)
//   bytes 14-   context
// Anything else (short, long, unknown version or type, node 0) fails to decode.
namespace {

constexpr uint8_t kConfChangeFormatVersion = 1;
constexpr size_t kConfChangeHeaderBytes = 14;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const std::string& in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
  return v;
}

}  // namespace

std::string encode_conf_change(const ConfChange& cc) {
  std::string out;
  out.reserve(kConfChangeHeaderBytes + cc.context.size());
  out.push_back(static_cast<char>(kConfChangeFormatVersion));
  out.push_back(static_cast<char>(cc.type));
  put_le(out, cc.node_id, 8);
  put_le(out, cc.context.size(), 4);
  out += cc.context;
  return out;
}

std::optional<ConfChange> decode_conf_change(const std::string& data) {
  if (data.size() < kConfChangeHeaderBytes) return std::nullopt;
  if (static_cast<uint8_t>(data[0]) != kConfChangeFormatVersion) return std::nullopt;
  const auto type = static_cast<uint8_t>(data[1]);
  if (type > static_cast<uint8_t>(ConfChangeType::kRemoveNode)) return std::nullopt;
  ConfChange cc;
  cc.type = static_cast<ConfChangeType>(type);
  cc.node_id = get_le(data, 2, 8);
  if (cc.node_id == kNoNode) return std::nullopt;
  const uint64_t context_bytes = get_le(data, 10, 4);
  if (data.size() - kConfChangeHeaderBytes != context_bytes) return std::nullopt;
  cc.context = data.substr(kConfChangeHeaderBytes);
  return cc;
}

}  // namespace corral::raft
