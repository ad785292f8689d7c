// Decoding of client requests (schema/api.capnp Request), with every check
// that needs no state: size bound, well-formed Cap'n Proto, known request
// kind, txn size. A request that passes is safe to read: every field was
// read once by its declared type inside the check (schema_walk.h), so later
// reads cannot throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <capnp/serialize.h>

#include "coordinator/api/errors.h"
#include "coordinator/api/limits.h"
#include "coordinator/kv/requests.h"

namespace corral::api {

// How the server handles a request.
enum class RequestClass : uint8_t {
  kWrite,       // goes through raft: put, delete, txn with writes, compaction, lease grant/revoke
  kRead,        // served from the local store (after ReadIndex unless serializable)
  kLeaderLocal, // answered by the leader at once: lease keepalive
  kWatch,       // watch create/cancel/progress: per connection
  kCluster,     // membership, moveLeader
  kLocal,       // status, snapshot, defragment: this member answers
};

struct ParseOutcome;

class ParsedRequest {
 public:
  ParsedRequest(const ParsedRequest&) = delete;
  ParsedRequest& operator=(const ParsedRequest&) = delete;

  wire::Request::Reader get() const { return root_; }
  uint64_t id() const { return root_.getId(); }
  wire::Request::Which which() const { return root_.which(); }
  RequestClass request_class() const { return class_; }
  // True for reads that need ReadIndex first.
  bool linearizable_read() const;

 private:
  friend ParseOutcome parse_request(std::string_view bytes, size_t max_request_bytes);
  ParsedRequest() = default;

  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  wire::Request::Reader root_;
  RequestClass class_ = RequestClass::kRead;
};

// Either a request, or the error to answer with. `id` is the request id when
// it could be read (0 otherwise: the client cannot match it).
struct ParseOutcome {
  std::unique_ptr<ParsedRequest> request;
  WireError error;
  uint64_t id = 0;
  bool ok() const { return request != nullptr; }
};

// Errors: tooLarge (past max_request_bytes; with the id when it can be
// read), malformed (not Cap'n Proto or a
// broken pointer), unknownRequest (a union member this member does not know),
// tooLarge / badRequest (txn past kMaxTxnOpsPerRequest or kMaxTxnDepth).
ParseOutcome parse_request(std::string_view bytes, size_t max_request_bytes);

// Checks of a client's request that the state machine does not make, run
// once before it is proposed (not at apply, so that the log replays as it
// was written): a txn branch that writes a key twice is badRequest, as in
// etcd. nullopt: fine.
std::optional<WireError> check_before_proposing(const ParsedRequest& request);

// The request id of a message that is not decoded whole (too large, or
// sent as several frames), read from its head alone: the root struct's
// first word. 0 when `head` holds no such word.
uint64_t peek_request_id(std::string_view head);

// Cap'n Proto readers -> kv requests (no validation beyond shape: kv checks keys and values).
kv::RangeRequest to_range(wire::RangeRequest::Reader r);
kv::PutRequest to_put(wire::PutRequest::Reader r);
kv::DeleteRequest to_delete(wire::DeleteRangeRequest::Reader r);
kv::TxnRequest to_txn(wire::TxnRequest::Reader r);

// Whether a txn writes (has any put/delete in either branch, at any depth).
bool txn_writes(wire::TxnRequest::Reader r);

}  // namespace corral::api
