// The output of every client connection on its way into ZeroMQ: frames
// ZeroMQ refused (its queue at SNDHWM) are held in order, ahead of anything
// later, and retried with backoff; the bytes ZeroMQ holds are counted, so a
// connection that leaves its replies unread can be told apart and refused
// (net/reply_budget.h). Owned by the node loop (client_replies.cc); no
// locks, no clock of its own (callers pass `now`), no raft: sends go through
// the function it is given (the client listener's send_counted).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/net/client_listener.h"
#include "coordinator/net/reply_budget.h"

namespace corral::server {

// Watch output a connection may have inside ZeroMQ (its SNDHWM counts
// messages, not bytes). Past it the stream waits in the hub, under the hub's
// bounds, and a reader that stays away is cancelled there (slow watcher).
inline constexpr int64_t kMaxWatchBytesInZmqPerConnection = 4 << 20;
// A connection that takes no bytes is retried after 1, 2, 4 .. this many ms
// (ZeroMQ cannot say when one connection's queue has room).
inline constexpr int kMaxOutputRetryMs = 32;
// Frames ZeroMQ refused kept in order per connection. Replies land here
// only behind 10000 unread messages, and a connection with more than
// net::ReplyBudget's bound of unsent replies gets no more work, so this is a
// last resort: past it the client has stopped reading for good and its
// output and watches are dropped.
inline constexpr size_t kMaxHeldBytesPerConnection = 64u << 20;
// How often connections without a watch stream whose replies have all left
// ZeroMQ are forgotten (their byte counts must outlive a full ZeroMQ queue).
inline constexpr int kOutputSweepIntervalMs = 100;

// What one client connection's output waits for: frames ZeroMQ refused,
// kept in order ahead of anything later, and the bytes ZeroMQ holds (for
// connections with a watch stream, whose sends are counted).
struct ConnectionOutput {
  using Clock = std::chrono::steady_clock;
  std::deque<std::string> held;
  size_t held_bytes = 0;
  net::QueuedBytes in_zmq = std::make_shared<std::atomic<int64_t>>(0);
  int backoff_ms = 0;
  Clock::time_point retry_at{};
  bool refusing = false;  // its requests were refused (net/reply_budget.h)
  int64_t unsent() const {
    return in_zmq->load(std::memory_order_relaxed) + static_cast<int64_t>(held_bytes);
  }
  bool paused(Clock::time_point now) const {
    return !held.empty() ||
           (now < retry_at && in_zmq->load(std::memory_order_relaxed) >= kMaxWatchBytesInZmqPerConnection);
  }
  void back_off(Clock::time_point now) {
    backoff_ms = std::clamp(backoff_ms * 2, 1, kMaxOutputRetryMs);
    retry_at = now + std::chrono::milliseconds(backoff_ms);
  }
};

class ConnectionOutputs {
 public:
  using Clock = std::chrono::steady_clock;
  // Hands one frame to ZeroMQ, counting it into `queued` while ZeroMQ holds it.
  using SendFn =
      std::function<net::ClientSendResult(const net::ConnectionId&, std::string&, const net::QueuedBytes&)>;

  enum class Sent : uint8_t {
    kSent,      // ZeroMQ took it
    kHeld,      // kept behind what is held, retried by flush_held
    kGone,      // the connection is gone: its entry was dropped here
    kOverflow,  // past kMaxHeldBytesPerConnection: the caller drops the connection
  };

  explicit ConnectionOutputs(SendFn send, size_t max_held_bytes_per_connection = kMaxHeldBytesPerConnection)
      : send_(std::move(send)), max_held_bytes_(max_held_bytes_per_connection) {}

  // Sends `frame`, or holds it (in order) when ZeroMQ refuses it or frames
  // are already held.
  Sent send(const net::ConnectionId& conn, std::string frame, Clock::time_point now);
  // Sends `frame` only if nothing is held and ZeroMQ takes it now (a
  // refusal: held, it would grow what it answers). kHeld: not sent.
  Sent send_unheld(const net::ConnectionId& conn, std::string& frame);
  // Retries held frames of connections whose retry time has come, in order.
  // Returns the connections found gone (their entries are dropped here);
  // `note_retry` hears the retry time of each connection still holding.
  std::vector<net::ConnectionId> flush_held(Clock::time_point now,
                                            const std::function<void(Clock::time_point)>& note_retry);
  // At most every kOutputSweepIntervalMs: drops entries with nothing held or
  // in ZeroMQ unless `keep` (a connection with a watch stream).
  void sweep(Clock::time_point now, const std::function<bool(const net::ConnectionId&)>& keep);

  // Why this connection gets no more work, if it does not: its replies (or
  // every connection's, `queued_in_zmq_total` plus what is held) are past
  // the budget. first_refusal is true once until its entry is dropped.
  struct Backlog {
    net::ServeVerdict verdict = net::ServeVerdict::kServe;
    int64_t unsent = 0;
    int64_t total = 0;
    bool first_refusal = false;
  };
  std::optional<Backlog> backlog(const net::ConnectionId& conn, const net::ReplyBudget& budget,
                                 int64_t queued_in_zmq_total);

  // The entry of a connection, made if missing (from then on its sends are
  // counted).
  ConnectionOutput& open(const net::ConnectionId& conn) { return outputs_.try_emplace(conn).first->second; }
  ConnectionOutput* find(const net::ConnectionId& conn);
  void forget(const net::ConnectionId& conn);

  size_t size() const { return outputs_.size(); }
  size_t held_bytes_total() const { return held_bytes_total_; }
  bool holding(const net::ConnectionId& conn) const { return holding_.count(conn) != 0; }

 private:
  SendFn send_;
  size_t max_held_bytes_;
  // Every connection with replies not yet taken by the kernel, or a watch stream.
  std::map<net::ConnectionId, ConnectionOutput> outputs_;
  std::set<net::ConnectionId> holding_;  // outputs_ with held frames
  size_t held_bytes_total_ = 0;
  Clock::time_point next_sweep_{};
};

}  // namespace corral::server
