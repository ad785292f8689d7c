// The collector's side of the fetch protocol: a DEALER connected to one
// source endpoint, many requests in flight (pipelined, matched by id), each
// with its own deadline. Not thread-safe: one thread owns a FetchClient.
//
// Two ways to use it, mixable:
//  - blocking: fetch(request, timeout) sends one request and waits for its
//    answer (other requests' answers that arrive meanwhile are kept for
//    collect());
//  - pipelined: submit() up to max_in_flight requests, then collect() the
//    completions (answers, and kTimeout for requests past their deadline).
// Bounds: requests in flight (options.max_in_flight) and the bytes they may
// bring back (sum of their maxBytes, options.max_in_flight_bytes); past either
// submit() says kBackpressure without sending.
//
// Reconnects: ZeroMQ reconnects the DEALER by itself. When a request times out
// and nothing at all arrived from the source since it was sent, the
// connection is presumed dead (e.g. a half-open TCP connection) and the
// client makes a new socket; requests still in flight then complete with
// kClosed (fetches are idempotent: the caller resends them).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/fetch/fetch_error.h"
#include "agent/fetch/fetch_types.h"
#include "coordinator/net/zmq_client_connection.h"

namespace corral::agent::fetch {

inline constexpr size_t kDefaultMaxInFlight = 16;
inline constexpr uint64_t kDefaultMaxInFlightBytes = 64ull << 20;
// Completions kept for collect() (answers nobody collected yet); beyond
// max_in_flight none can exist, since a request leaves flight only into it.
inline constexpr size_t kMaxInFlightLimit = 1024;

struct FetchClientOptions {
  std::string endpoint;  // tcp://HOST:PORT of the source
  size_t max_in_flight = kDefaultMaxInFlight;             // 1..kMaxInFlightLimit
  uint64_t max_in_flight_bytes = kDefaultMaxInFlightBytes;  // >= kMaxReplyDataBytes
};

struct FetchCompletion {
  uint64_t id = 0;              // what submit() returned
  Result<FetchReply> reply;     // an answer (maybe a wire error), or kTimeout/kClosed/kBadResponse
};

class FetchClient {
 public:
  // kBadRequest for bad options or endpoint.
  static Result<std::unique_ptr<FetchClient>> create(zmq::context_t& context,
                                                     FetchClientOptions options);
  FetchClient(const FetchClient&) = delete;
  FetchClient& operator=(const FetchClient&) = delete;

  // Sends `request` (its id is replaced by a fresh one, returned). Never
  // blocks. kBackpressure at the in-flight bounds; kBadRequest if the
  // request is invalid (validate()).
  Result<uint64_t> submit(FetchRequest request, std::chrono::milliseconds timeout);
  // Waits up to `wait` until at least one submitted request completes, then
  // returns every completion available (possibly none when `wait` passed).
  std::vector<FetchCompletion> collect(std::chrono::milliseconds wait);

  // Blocking: one request, its answer or kTimeout/kBackpressure/kBadResponse.
  Result<FetchReply> fetch(FetchRequest request, std::chrono::milliseconds timeout);
  // Blocking: the streams the source serves.
  Result<StreamsReply> streams(std::chrono::milliseconds timeout);

  const std::string& endpoint() const { return options_.endpoint; }
  size_t in_flight() const { return pending_.size(); }
  uint64_t in_flight_bytes() const { return pending_bytes_; }
  uint64_t reconnects() const { return reconnects_; }
  // A fresh socket; every request in flight completes with kClosed.
  void reconnect();
  // Readable when an answer is waiting (for the caller's own poll loop;
  // changes on reconnect()).
  zmq::socket_ref socket() { return connection_->socket(); }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Kind : uint8_t { kFetch, kStreams };
  struct Pending {
    Kind kind = Kind::kFetch;
    Clock::time_point sent;
    Clock::time_point deadline;
    uint64_t bytes = 0;
  };

  FetchClient(zmq::context_t& context, FetchClientOptions options);
  Status connect();
  Result<uint64_t> send(const AgentRequest& request, Kind kind, uint64_t bytes,
                        std::chrono::milliseconds timeout);
  void complete(uint64_t id, Result<FetchReply> reply);
  void drain_socket();
  void handle_frame(const std::string& bytes);
  void expire(Clock::time_point now);
  void wait_readable(Clock::time_point until);
  Clock::time_point next_deadline() const;

  zmq::context_t& context_;
  FetchClientOptions options_;
  std::unique_ptr<net::ZmqClientConnection> connection_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending> pending_;
  uint64_t pending_bytes_ = 0;
  std::deque<FetchCompletion> ready_;             // fetch completions not yet collected
  std::map<uint64_t, Result<StreamsReply>> streams_ready_;
  Clock::time_point last_receive_{};
  uint64_t reconnects_ = 0;
};

}  // namespace corral::agent::fetch
