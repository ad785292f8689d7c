// An HTTP API error: its status, a stable camelCase code and a message,
// written as {"error":{"code":..,"message":..,<details>}}. Client library
// errors map to statuses here, in one table.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "client/error.h"

namespace corral::http {

struct HttpError {
  int status = 500;
  std::string code;
  std::string message;
  nlohmann::json details = nlohmann::json::object();  // merged into "error"
  int retry_after_seconds = 0;                       // > 0: a Retry-After header
};

HttpError bad_request(std::string message);
HttpError not_found_path(std::string path);
HttpError too_large(std::string message);

// keyNotFound, compareFailed, unavailable (503 + Retry-After), timeout (504), ...
HttpError from_client_error(const client::Error& error);

// {"error":{"code":..,"message":..,...details}}
nlohmann::json error_json(const HttpError& error);

}  // namespace corral::http
