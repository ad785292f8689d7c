// Client requests by type and result code, and their latency: a request is
// noted when it arrives and counted when its answer leaves (whatever path
// answered it: served read, applied write, error, timeout), by reading the
// id and the result code from the answer itself. Requests waiting for an
// answer are bounded in count (kMaxWaiting): when full, those older than
// kMaxWait (whose answer never left: a refusal not sent) are dropped, and if
// it is still full a new request is counted at once as code "untracked".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>
#include <utility>

#include "coordinator/net/client_listener.h"
#include "coordinator/server/server_metrics.h"
#include "schema/api.capnp.h"

namespace corral::server {

class RequestMeter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxWaiting = 100'000;
  static constexpr std::chrono::seconds kMaxWait{60};

  explicit RequestMeter(ServerMetrics& metrics) : metrics_(metrics) {}

  // A parsed request; malformed ones are noted with type "malformed".
  void received(const net::ConnectionId& conn, uint64_t id, schema::api::Request::Which type, Clock::time_point now);
  void received_malformed(const net::ConnectionId& conn, uint64_t id, Clock::time_point now);
  // A frame sent to a client: a Response is counted; other frames (watch
  // events, controls) and unreadable bytes are ignored.
  void answered(const net::ConnectionId& conn, std::string_view server_message, Clock::time_point now);
  // The connection is gone: its requests will not be answered.
  void forget(const net::ConnectionId& conn);

  size_t waiting() const { return waiting_.size(); }

  // The request type's name as in api.capnp ("range", "put", "leaseGrant").
  static std::string_view type_name(schema::api::Request::Which type);
  static std::string_view code_name(uint16_t code);

 private:
  struct Waiting {
    std::string_view type;
    Clock::time_point since;
  };
  void note(const net::ConnectionId& conn, uint64_t id, std::string_view type, Clock::time_point now);
  struct Series {
    metrics::Counter* requests;
    metrics::Histogram* seconds;
  };
  // The series of (type, code), looked up in the families once: a family
  // lookup allocates and locks, this is the per-request path.
  Series& series(std::string_view type, uint16_t code);

  ServerMetrics& metrics_;
  std::map<std::pair<net::ConnectionId, uint64_t>, Waiting> waiting_;
  // Keys are views of names with static storage (type_name, "malformed").
  std::map<std::pair<std::string_view, uint16_t>, Series> series_;
  Clock::time_point next_eviction_{};  // full: look for stale entries at most once a second
};

}  // namespace corral::server
