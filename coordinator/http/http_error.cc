#include "coordinator/http/http_error.h"

namespace corral::http {

HttpError bad_request(std::string message) { return {400, "badRequest", std::move(message)}; }

HttpError not_found_path(std::string path) {
  return {404, "notFound", "no such path: " + std::move(path)};
}

HttpError too_large(std::string message) { return {413, "tooLarge", std::move(message)}; }

HttpError from_client_error(const client::Error& error) {
  using client::ErrorCode;
  HttpError out;
  out.message = error.message.empty() ? client::error_code_name(error.code) : error.message;
  switch (error.code) {
    case ErrorCode::kBadRequest:
    case ErrorCode::kMalformed:
    case ErrorCode::kUnknownRequest:
      out.status = 400;
      out.code = "badRequest";
      break;
    case ErrorCode::kNotFound:
      out.status = 404;
      out.code = "keyNotFound";
      break;
    case ErrorCode::kLeaseNotFound:
      out.status = 404;
      out.code = "leaseNotFound";
      break;
    case ErrorCode::kCompacted:
      out.status = 410;
      out.code = "compacted";
      out.details["compactRevision"] = error.compact_revision;
      break;
    case ErrorCode::kFutureRevision:
      out.status = 400;
      out.code = "futureRevision";
      break;
    case ErrorCode::kTooLarge:
      out.status = 413;
      out.code = "tooLarge";
      break;
    case ErrorCode::kNotLeader:
      // The client library follows the leader; this is left only when no
      // leader is known: the caller should come back after an election.
      out.status = 503;
      out.code = "notLeader";
      out.retry_after_seconds = 1;
      if (!error.leader_hint.empty()) out.details["leader"] = error.leader_hint;
      break;
    case ErrorCode::kUnavailable:
    case ErrorCode::kUnreachable:
    case ErrorCode::kBackpressure:
    case ErrorCode::kClosed:
      out.status = 503;
      out.code = "unavailable";
      out.retry_after_seconds = 1;
      break;
    case ErrorCode::kPermissionDenied:
      out.status = 403;
      out.code = "permissionDenied";
      break;
    case ErrorCode::kUnauthenticated:
      out.status = 401;
      out.code = "unauthenticated";
      break;
    case ErrorCode::kNoSpace:
      // 507 Insufficient Storage: the cluster refuses writes until space is
      // freed and the alarm disarmed; reads go on.
      out.status = 507;
      out.code = "noSpace";
      break;
    case ErrorCode::kTimeout:
      out.status = 504;
      out.code = "timeout";
      break;
    case ErrorCode::kFenced:
      out.status = 409;
      out.code = "fenced";
      break;
    case ErrorCode::kOk:
    case ErrorCode::kStorage:
    case ErrorCode::kInternal:
    case ErrorCode::kBadResponse:
      out.status = 500;
      out.code = "internal";
      break;
  }
  return out;
}

nlohmann::json error_json(const HttpError& error) {
  nlohmann::json inner = error.details.is_object() ? error.details : nlohmann::json::object();
  inner["code"] = error.code;
  inner["message"] = error.message;
  return nlohmann::json{{"error", std::move(inner)}};
}

}  // namespace corral::http
