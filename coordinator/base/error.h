// Errors inside the server are values: a code from one closed list and a
// message naming what was wrong. api/ maps them to wire errors in one place.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "coordinator/base/result.h"

namespace corral {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kBadRequest,        // malformed or nonsensical input
  kNotFound,          // key, lease, member that does not exist
  kLeaseNotFound,
  kCompacted,         // revision older than the compaction point
  kFutureRevision,    // revision newer than the current one
  kTooLarge,          // past a documented bound
  kNotLeader,
  kUnavailable,       // no leader, shutting down, peer unreachable
  kPermissionDenied,
  kStorage,           // the disk said no: I/O error, corruption
  kInternal,
  kUnauthenticated,   // wrong password; a forged, expired or outdated token
};
const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // kCompacted: the compact revision; kFutureRevision: the current revision.
  int64_t revision = 0;
};

// A value or an Error; success or an Error.
template <typename T>
using Result = BasicResult<T, Error>;
using Status = BasicStatus<Error>;

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace corral
