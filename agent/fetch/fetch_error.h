// The fetch protocol's typed errors: the wire FetchError a source answered
// with (same meaning and order as schema/agent.capnp's enum), or one of the
// failures only the fetching side can see. Callers switch on `code`;
// `message` is for people.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "coordinator/base/result.h"

namespace corral::agent::fetch {

enum class FetchErrorCode : uint8_t {
  kOk = 0,
  // Answered by a source (agent.capnp's FetchError, same order).
  kBadRequest,
  kUnknownStream,
  kUnknownFile,    // FetchReply.file/offset name the oldest retained position
  kTooLarge,
  kUnavailable,
  // Seen only by the fetching side.
  kTimeout,        // no answer in time; fetches are idempotent, so retry
  kBackpressure,   // too many requests or bytes in flight on this client
  kBadResponse,    // the source sent something we could not decode
  kClosed,         // the client dropped the request (reconnect, shutdown)
};

const char* fetch_error_code_name(FetchErrorCode code);

struct FetchError {
  FetchErrorCode code = FetchErrorCode::kBadRequest;
  std::string message;
};

inline FetchError make_fetch_error(FetchErrorCode code, std::string message) {
  return FetchError{code, std::move(message)};
}

std::string to_string(const FetchError& error);

template <typename T>
using Result = corral::BasicResult<T, FetchError>;
using Status = corral::BasicStatus<FetchError>;

}  // namespace corral::agent::fetch
