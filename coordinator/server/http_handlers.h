// The HTTP API's one-answer routes: keys GET/PUT/DELETE, leases, txn,
// members, status, health, version, metrics. Each sends its request(s) with
// call_async and answers through `respond`, which may run on the client's
// I/O thread (the session moves it to its own). Watches and long polls,
// which live as long as their connection, are the session's (http_session.h).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "client/client.h"
#include "coordinator/http/http_error.h"
#include "coordinator/http/request_context.h"
#include "coordinator/http/route.h"
#include "coordinator/http/url_codec.h"

namespace corral::server {

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;        // 405: the methods the path takes
  int retry_after = 0;      // > 0: Retry-After seconds
};
using HttpRespond = std::function<void(HttpReply)>;

HttpReply json_reply(int status, const nlohmann::json& doc);
HttpReply error_reply(const http::HttpError& error);

struct HttpBackend {
  client::Client* kv = nullptr;     // any member: follows the leader
  client::Client* local = nullptr;  // this member only: status, health
  std::function<std::string()> metrics;  // null: a minimal text
  std::chrono::milliseconds health_timeout{2000};
};

// What the session read: the route, the query and body parameters' raw text.
struct HttpCall {
  http::Route route;
  std::string query;
  std::string content_type;
  std::string body;
  http::RequestContext context;
};

void handle_http_call(const HttpBackend& backend, const HttpCall& call, HttpRespond respond);

}  // namespace corral::server
