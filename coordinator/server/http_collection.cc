#include "coordinator/server/http_collection.h"

#include <map>
#include <memory>
#include <mutex>

#include "coordinator/http/collection_json.h"

namespace corral::server {
namespace {

// Keys per prefix in one view (then "more": true), and lease lookups per
// agents view: each is one round trip, so both are bounded.
constexpr int64_t kMaxViewKeys = 10'000;
constexpr size_t kMaxLeaseLookups = 1'000;

// The lookups of one agents view; their answers come on client I/O threads.
struct LeaseLookups {
  http::CollectionRead read;
  HttpRespond respond;
  std::mutex mu;
  std::map<int64_t, int64_t> ttls;
  size_t waiting = 0;
};

void agents_with_ttls(const HttpBackend& b, const HttpCall& call, http::CollectionRead read, HttpRespond respond) {
  auto leases = http::agent_leases(read, kMaxLeaseLookups);
  if (leases.empty()) return respond(json_reply(200, http::agents_json(read, {})));
  auto lookups = std::make_shared<LeaseLookups>();
  lookups->read = std::move(read);
  lookups->respond = std::move(respond);
  lookups->waiting = leases.size();
  client::Client* c = b.kv();
  for (int64_t id : leases) {
    c->call_async(client::LeaseTtlRequest{id, false}, http::options_for(call.context),
                  [lookups, id](client::Result<client::LeaseTtlResult> r) {
                    bool last = false;
                    {
                      std::lock_guard lock(lookups->mu);
                      // A failed lookup leaves the lease unknown ("ttl" absent).
                      if (r.ok()) lookups->ttls[id] = r->ttl_seconds;
                      last = --lookups->waiting == 0;
                    }
                    if (last) lookups->respond(json_reply(200, http::agents_json(lookups->read, lookups->ttls)));
                  });
  }
}

}  // namespace

void collection_view(const HttpBackend& b, const HttpCall& call, HttpRespond respond) {
  const HttpBackend* backend = &b;  // outlives every call (the server stops its clients first)
  b.kv()->call_async(http::collection_txn(kMaxViewKeys), http::options_for(call.context),
                     [backend, call, respond](client::Result<client::TxnResult> r) {
                       if (!r.ok()) return respond(error_reply(http::from_client_error(r.error())));
                       http::CollectionRead read;
                       if (!http::collection_read_of(*r, read)) {
                         return respond(error_reply({500, "internal", "the collection read came back malformed"}));
                       }
                       if (call.route.kind == http::RouteKind::kTasks) {
                         return respond(json_reply(200, http::tasks_json(read)));
                       }
                       agents_with_ttls(*backend, call, std::move(read), respond);
                     });
}

}  // namespace corral::server
