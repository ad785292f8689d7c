#include "agent/fetch/fetch_error.h"

namespace corral::agent::fetch {

const char* fetch_error_code_name(FetchErrorCode code) {
  switch (code) {
    case FetchErrorCode::kOk: return "ok";
    case FetchErrorCode::kBadRequest: return "badRequest";
    case FetchErrorCode::kUnknownStream: return "unknownStream";
    case FetchErrorCode::kUnknownFile: return "unknownFile";
    case FetchErrorCode::kTooLarge: return "tooLarge";
    case FetchErrorCode::kUnavailable: return "unavailable";
    case FetchErrorCode::kTimeout: return "timeout";
    case FetchErrorCode::kBackpressure: return "backpressure";
    case FetchErrorCode::kBadResponse: return "badResponse";
    case FetchErrorCode::kClosed: return "closed";
  }
  return "unknown";
}

std::string to_string(const FetchError& error) {
  std::string out = fetch_error_code_name(error.code);
  if (!error.message.empty()) out += ": " + error.message;
  return out;
}

}  // namespace corral::agent::fetch
