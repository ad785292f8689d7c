// The fetch protocol's messages as plain values (schema/agent.capnp is the
// wire form; fetch_codec.h converts) and the protocol's bounds, shared by the
// source (agent/source/) and the collector's client (fetch_client.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "agent/fetch/fetch_error.h"

namespace corral::agent::fetch {

// A source never puts more than this in one answer's data (maxBytes above it
// is lowered to it).
inline constexpr uint32_t kMaxReplyDataBytes = 4u << 20;
// Longest line delivered whole, its '\n' included; longer lines are cut into
// pieces of kMaxLineBytes bytes, each followed by an appended '\n'.
inline constexpr size_t kMaxLineBytes = 1u << 20;
// File ids are opaque to everyone but the source; checkpoints hold <= 128 bytes.
inline constexpr size_t kMaxFileIdBytes = 128;
// "<app>/<topic>": two ids of <= 128 bytes and a '/'.
inline constexpr size_t kMaxStreamNameBytes = 257;
// A request frame above this is refused (tooLarge); real ones are < 1 KiB.
inline constexpr size_t kMaxRequestBytes = 64u << 10;
// An answer frame is never larger than this (data plus a small envelope).
inline constexpr size_t kMaxResponseBytes = kMaxReplyDataBytes + kMaxLineBytes + (64u << 10);

struct FetchRequest {
  uint64_t id = 0;              // set by FetchClient on submit; never 0 on the wire
  std::string stream;           // "<app>/<topic>"
  std::string file;             // empty: the oldest retained file (offset ignored)
  uint64_t offset = 0;
  std::string committed_file;   // the collector's durable checkpoint; empty = none
  uint64_t committed_offset = 0;
  uint32_t max_bytes = 1u << 20;
};

// An answer. `error` kOk or a wire error (kUnknownFile carries the oldest
// retained position in file/offset and next_file/next_offset).
struct FetchReply {
  uint64_t id = 0;
  FetchErrorCode error = FetchErrorCode::kOk;
  std::string message;
  std::string file;             // where `data` starts
  uint64_t offset = 0;
  std::string data;             // whole lines, see agent.capnp
  std::string next_file;        // the position after `data`
  uint64_t next_offset = 0;
  uint64_t end_bytes = 0;       // retained bytes after the next position (lag)
};

struct StreamsRequest {
  uint64_t id = 0;
};

struct StreamInfo {
  std::string name;
  std::vector<std::string> paths;
  uint32_t files = 0;
  uint64_t retained_bytes = 0;
};

struct StreamsReply {
  uint64_t id = 0;
  std::vector<StreamInfo> streams;
};

using AgentRequest = std::variant<FetchRequest, StreamsRequest>;
using AgentResponse = std::variant<FetchReply, StreamsReply>;

}  // namespace corral::agent::fetch
