// GET /v1/agents and GET /v1/tasks (http/collection_json.h): one read-only
// txn of the collection prefixes (one revision), then for agents the
// remaining time of their leases, looked up in parallel and bounded.
#pragma once

#include "coordinator/server/http_handlers.h"

namespace corral::server {

void collection_view(const HttpBackend& backend, const HttpCall& call, HttpRespond respond);

}  // namespace corral::server
