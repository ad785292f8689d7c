// The data of a normal raft entry: one or more client requests proposed
// together (one proposal batch per node-loop turn), with who proposed them so
// that the proposer can answer its clients after apply.
//
// Format (integers little-endian):
//   u8  magic 'K' | u8 version 2
//   u64 proposer member id (0: proposed by the server itself, nobody waits)
//   u32 count (1..kMaxRequestsPerEntry)
//   count x { u64 proposal id | u32 length | length bytes: a flat
//             schema/api.capnp Request
//             | u8 stamped (0|1) | if 1: u64 auth revision | u16 length |
//             length bytes: user }
// The stamp is who the leader admitted the request as and the auth
// revision it checked against; apply checks again when the store has moved
// on since (auth_recheck.h). Server-made requests are not stamped. Version 1
// (no stamp) entries from older logs are still read, unstamped.
// An empty entry is a leader's no-op and is not a Command.
//
// A second entry kind publishes a member's attributes (its client URLs), so
// that followers can point clients at the leader:
//   u8 'A' | u8 version 1 | rest: a flat schema/api.capnp Member
//
// A third kind carries the leader's lease checkpoints:
//   u8 'C' | u8 version 1 | rest: see coordinator/lease/checkpoint_entry.h
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"

namespace corral::server {

inline constexpr size_t kMaxRequestsPerEntry = 65536;
// A batch is cut once it holds this many bytes of requests.
inline constexpr size_t kMaxEntryBytes = 1 << 20;

// Who a client request was admitted as (see the format above).
struct AuthStamp {
  std::string_view user;  // "" for anonymous
  uint64_t auth_revision = 0;
};
inline constexpr size_t kMaxStampUserBytes = 0xffff;

struct CommandItem {
  uint64_t proposal_id = 0;
  std::string_view request;  // points into the entry's data
  std::optional<AuthStamp> stamp;  // its user points into the entry's data
};

struct Command {
  uint64_t proposer = 0;
  std::vector<CommandItem> items;
};

class CommandWriter {
 public:
  explicit CommandWriter(uint64_t proposer);
  // A user longer than kMaxStampUserBytes is cut (names are far shorter:
  // auth::kMaxNameBytes).
  void add(uint64_t proposal_id, std::string_view request, std::optional<AuthStamp> stamp = std::nullopt);
  size_t count() const { return count_; }
  size_t size_bytes() const { return data_.size(); }
  // The entry data; the writer is empty (for `proposer`) afterwards.
  std::string take();

 private:
  void reset();
  uint64_t proposer_;
  std::string data_;
  uint32_t count_ = 0;
};

// kBadRequest on a wrong magic/version, a truncated item or a count out of range.
Result<Command> decode_command(std::string_view data);

inline constexpr char kAttributesMagic = 'A';
std::string encode_attributes(std::string_view member_record);
bool is_attributes(std::string_view data);
std::string_view attributes_record(std::string_view data);

// Context of a membership conf change: who proposed it, and the member record
// (a flat schema/api.capnp Member; empty for a removal).
//   u8 'M' | u64 proposer | u64 proposal id | rest: member record
struct ConfChangeContext {
  uint64_t proposer = 0;
  uint64_t proposal_id = 0;
  std::string member;
};
std::string encode_conf_context(const ConfChangeContext& ctx);
Result<ConfChangeContext> decode_conf_context(std::string_view data);

}  // namespace corral::server
