// The client's typed errors: the wire ErrorCode a member answered with, or
// one of the few failures only the client can see (unreachable, deadline,
// backpressure, closed). Callers switch on `code`; `message` is for humans.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "coordinator/base/result.h"

namespace corral::client {

enum class ErrorCode : uint8_t {
  kOk = 0,
  // Answered by a member (same meaning and order as api.capnp's ErrorCode).
  kBadRequest,
  kNotFound,
  kLeaseNotFound,
  kCompacted,        // see Error::compact_revision
  kFutureRevision,
  kTooLarge,
  kNotLeader,        // see Error::leader_hint
  kUnavailable,
  kPermissionDenied,
  kStorage,
  kInternal,
  kMalformed,
  kUnknownRequest,
  kTimeout,          // outcome unknown: the request may or may not have been applied
  // Seen only by the client.
  kUnreachable,      // no member could be reached in time; the request was never delivered
  kBackpressure,     // too many requests in flight on this client (Options::max_in_flight)
  kClosed,           // the client was closed before the request completed
  kBadResponse,      // a member sent something we could not decode
  kFenced,           // a collector's checkpoint or release refused: the task has moved on
  // Answered by a member (api.capnp's unauthenticated): a wrong user name or
  // password, or a token that is forged, expired or outdated.
  kUnauthenticated,
  // Answered by a member (api.capnp's noSpace): a NOSPACE alarm stands (a
  // member's disk is below its reserve): writes are refused; reads go on.
  kNoSpace,
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string leader_hint;       // kNotLeader: the leader's client endpoint, when known
  int64_t compact_revision = 0;  // kCompacted: the member's compaction point
};

std::string to_string(const Error& error);

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}, 0};
}

template <typename T>
using Result = corral::BasicResult<T, Error>;
using Status = corral::BasicStatus<Error>;

}  // namespace corral::client
