// Replies out to client connections: frames ZeroMQ refused are held in order
// and retried with backoff; connections that leave replies unread are refused.
#include "coordinator/server/node_loop.h"

#include "coordinator/server/log.h"

namespace corral::server {

namespace {

// Frames ZeroMQ refused (its queue at SNDHWM) kept in order per connection.
// Replies land here only behind 10000 unread messages, and a connection with
// more than net::ReplyBudget's bound of unsent replies gets no more work, so
// this is a last resort: past it the client has stopped reading for good
// and its output and watches are dropped.
constexpr size_t kMaxHeldBytesPerConnection = 64u << 20;
// How often connections without a watch stream whose replies have all left
// ZeroMQ are forgotten (their byte counts must outlive a full ZeroMQ queue).
constexpr int kOutputSweepIntervalMs = 100;

}  // namespace

// Every reply is counted while ZeroMQ holds it, so that a client that does
// not read its replies can be told apart (refuse_if_backlogged).
void NodeLoop::reply(const net::ConnectionId& conn, const std::string& bytes) {
  meter_.answered(conn, bytes, Clock::now());
  (void)send_frame(conn, bytes);
}

void NodeLoop::reply_error(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e) {
  reply(conn, api::encode_error(request_id, header(), e));
}

bool NodeLoop::send_frame(const net::ConnectionId& conn, std::string frame) {
  reply_bytes_this_turn_ += frame.size();
  auto it = outputs_.try_emplace(conn).first;
  net::ClientSendResult r;
  if (!it->second.held.empty()) {
    r = net::ClientSendResult::kBackpressure;  // behind what is held: keep the order
  } else {
    r = listener_->send_counted(conn, frame, it->second.in_zmq);
  }
  if (r == net::ClientSendResult::kSent) return true;
  if (r == net::ClientSendResult::kGone) {
    forget_connection(conn);
    return false;
  }
  // kBackpressure: not lost, kept and retried (flush_held_output).
  auto& out = outputs_[conn];
  if (out.held_bytes + frame.size() > kMaxHeldBytesPerConnection) {
    log_warn("client connection stopped reading (%zu bytes held): its output and watches are dropped",
              out.held_bytes);
    forget_connection(conn);
    return false;
  }
  if (out.held.empty()) {
    out.back_off(Clock::now());
    holding_.insert(conn);
  }
  out.held_bytes += frame.size();
  held_bytes_total_ += frame.size();
  out.held.push_back(std::move(frame));
  return true;
}

// A connection that leaves its replies unread gets no more work done: each
// request gets a typed error instead (net/reply_budget.h). Keep-alives are
// always served: their answer is no bigger than the refusal, and a busy
// member must not let leases lapse.
bool NodeLoop::refuse_if_backlogged(const net::ConnectionId& conn, uint64_t request_id) {
  auto it = outputs_.find(conn);
  if (it == outputs_.end()) return false;
  auto& out = it->second;
  const int64_t total = listener_->queued_bytes_total() + static_cast<int64_t>(held_bytes_total_);
  const int64_t unsent = out.unsent();
  const auto verdict = net::serve_verdict(reply_budget_, unsent, total);
  if (verdict == net::ServeVerdict::kServe) return false;
  if (!out.refusing) {  // logged once until the connection has drained
    out.refusing = true;
    log_event("a client connection has %lld reply bytes unread (all: %lld): its requests are refused until it reads",
              static_cast<long long>(unsent), static_cast<long long>(total));
  }
  send_refusal(conn, request_id,
               api::wire_error(wire::ErrorCode::UNAVAILABLE,
                               verdict == net::ServeVerdict::kConnectionFull
                                   ? "this connection has " + std::to_string(unsent) +
                                         " bytes of replies unread; read them, then retry"
                                   : "member has too many unread replies; read yours, then retry"));
  return true;
}

// A refusal is sent only if ZeroMQ takes it now: held, it would grow what
// the connection leaves unread, which is what it answers.
void NodeLoop::send_refusal(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e) {
  auto it = outputs_.try_emplace(conn).first;
  if (!it->second.held.empty()) return;
  std::string bytes = api::encode_error(request_id, header(), e);
  meter_.answered(conn, bytes, Clock::now());
  reply_bytes_this_turn_ += bytes.size();
  if (listener_->send_counted(conn, bytes, it->second.in_zmq) == net::ClientSendResult::kGone) {
    forget_connection(conn);
  }
}

void NodeLoop::flush_held_output(Clock::time_point now) {
  std::vector<net::ConnectionId> conns(holding_.begin(), holding_.end());
  for (const auto& conn : conns) {
    auto it = outputs_.find(conn);
    if (it == outputs_.end()) {
      holding_.erase(conn);
      continue;
    }
    auto& out = it->second;
    if (now >= out.retry_at) {
      net::ClientSendResult r = net::ClientSendResult::kSent;
      while (!out.held.empty()) {
        const size_t size = out.held.front().size();
        r = listener_->send_counted(conn, out.held.front(), out.in_zmq);
        if (r != net::ClientSendResult::kSent) break;
        out.held.pop_front();
        out.held_bytes -= size;
        held_bytes_total_ -= size;
      }
      if (r == net::ClientSendResult::kGone) {
        forget_connection(conn);
        continue;
      }
      if (!out.held.empty()) out.back_off(now);
    }
    if (!out.held.empty()) {
      note_retry(out.retry_at);
      continue;
    }
    out.backoff_ms = 0;
    holding_.erase(conn);
  }
  sweep_outputs(now);
}

// A connection without a watch stream needs no entry once ZeroMQ has let go
// of all its replies (an entry dropped earlier would forget bytes it holds).
void NodeLoop::sweep_outputs(Clock::time_point now) {
  if (now < next_output_sweep_) return;
  next_output_sweep_ = now + std::chrono::milliseconds(kOutputSweepIntervalMs);
  for (auto it = outputs_.begin(); it != outputs_.end();) {
    const bool idle = it->second.held.empty() && it->second.unsent() == 0 &&
                      !stream_by_conn_.count(it->first);
    it = idle ? outputs_.erase(it) : std::next(it);
  }
}

void NodeLoop::forget_connection(const net::ConnectionId& conn) {
  meter_.forget(conn);
  auto it = stream_by_conn_.find(conn);
  if (it != stream_by_conn_.end()) close_stream(it->second);
  if (auto out = outputs_.find(conn); out != outputs_.end()) {
    held_bytes_total_ -= out->second.held_bytes;
    outputs_.erase(out);
  }
  holding_.erase(conn);
}

}  // namespace corral::server
