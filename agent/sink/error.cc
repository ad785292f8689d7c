#include "agent/sink/error.h"

#include <cerrno>
#include <cstring>

namespace corral::agent::sink {

const char* sink_error_code_name(SinkErrorCode code) {
  switch (code) {
    case SinkErrorCode::kOk: return "ok";
    case SinkErrorCode::kFull: return "full";
    case SinkErrorCode::kNoSpace: return "no space";
    case SinkErrorCode::kIo: return "i/o error";
    case SinkErrorCode::kPermission: return "permission denied";
    case SinkErrorCode::kBadPath: return "bad path";
    case SinkErrorCode::kBadInput: return "bad input";
    case SinkErrorCode::kBadSpec: return "bad sink spec";
    case SinkErrorCode::kClosed: return "closed";
  }
  return "unknown";
}

std::string to_string(const SinkError& error) {
  std::string out = sink_error_code_name(error.code);
  if (!error.message.empty()) out += ": " + error.message;
  return out;
}

SinkErrorCode code_from_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT: return SinkErrorCode::kNoSpace;
    case EACCES:
    case EPERM:
    case EROFS: return SinkErrorCode::kPermission;
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
    case ELOOP:
    case EEXIST: return SinkErrorCode::kBadPath;
    case EPIPE: return SinkErrorCode::kClosed;
    default: return SinkErrorCode::kIo;
  }
}

SinkError errno_error(std::string_view what, int err) {
  return make_sink_error(code_from_errno(err), std::string(what) + ": " + std::strerror(err));
}

}  // namespace corral::agent::sink
