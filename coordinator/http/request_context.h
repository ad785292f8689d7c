// Who sent an HTTP request: the token of its Authorization header and the
// common name of its verified TLS client certificate. Every call to the
// cluster takes its options from options_for(), the one place where the
// token reaches the client library (CallOptions::token, WatchOptions::token,
// once the auth branch adds them).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/client.h"

namespace corral::http {

struct RequestContext {
  std::optional<std::string> token;  // "Authorization: Bearer <t>" or "Authorization: <t>"
  std::string client_cn;             // verified client certificate's CN; empty without one
};

// The token of an Authorization header value (empty or blank: none).
std::optional<std::string> token_of(std::string_view authorization);

client::CallOptions options_for(const RequestContext& context);
client::WatchOptions watch_options_for(const RequestContext& context, client::WatchOptions options);

}  // namespace corral::http
