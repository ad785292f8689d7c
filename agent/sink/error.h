// The sink's typed errors. A sink never reports a failed write or sync as
// success: every call answers ok or one of these, and the collector decides
// (retry later, stop the task, resume from the last checkpoint).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/result.h"

namespace corral::agent::sink {

enum class SinkErrorCode : uint8_t {
  kOk = 0,
  kFull,        // backpressure: not accepted before the deadline; nothing was appended; retry
  kNoSpace,     // ENOSPC / EDQUOT
  kIo,          // EIO and any other I/O failure
  kPermission,  // EACCES / EPERM / EROFS
  kBadPath,     // the sink's path is unusable (a file where a directory must be, a name too long)
  kBadInput,    // the task id is not app/topic/machine-ip, or the bytes are not whole lines
  kBadSpec,     // a sink spec (file:DIR, stdout, zmq:ENDPOINT) that cannot be used
  kClosed,      // the reader went away (EPIPE) or the sink was shut down
};

const char* sink_error_code_name(SinkErrorCode code);

struct SinkError {
  SinkErrorCode code = SinkErrorCode::kIo;
  std::string message;
};

std::string to_string(const SinkError& error);

inline SinkError make_sink_error(SinkErrorCode code, std::string message) {
  return SinkError{code, std::move(message)};
}

// The code an errno from open/write/fsync/mkdir stands for.
SinkErrorCode code_from_errno(int err);

// "<what>: <strerror(err)>" with the code from code_from_errno.
SinkError errno_error(std::string_view what, int err);

template <typename T>
using Result = corral::BasicResult<T, SinkError>;
using Status = corral::BasicStatus<SinkError>;

}  // namespace corral::agent::sink
