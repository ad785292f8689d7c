// Replies out to client connections, through ConnectionOutputs (frames ZeroMQ
// refused held in order and retried with backoff; connection_output.h), and
// the refusal of connections that leave their replies unread.
#include "coordinator/server/node_loop.h"

#include "coordinator/server/log.h"

namespace corral::server {

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
  switch (outputs_.send(conn, std::move(frame), Clock::now())) {
    case ConnectionOutputs::Sent::kSent:
    case ConnectionOutputs::Sent::kHeld:  // retried by flush_held_output
      return true;
    case ConnectionOutputs::Sent::kOverflow:
      log_warn("client connection stopped reading (%zu bytes held): its output and watches are dropped",
               outputs_.find(conn)->held_bytes);
      forget_connection(conn);
      return false;
    case ConnectionOutputs::Sent::kGone:
      break;
  }
  forget_connection(conn);
  return false;
}

// A connection that leaves its replies unread gets no more work done: each
// request gets a typed error instead (net/reply_budget.h). Keep-alives are
// always served: their answer is no bigger than the refusal, and a busy
// member must not let leases lapse.
bool NodeLoop::refuse_if_backlogged(const net::ConnectionId& conn, uint64_t request_id) {
  const auto backlog = outputs_.backlog(conn, reply_budget_, listener_->queued_bytes_total());
  if (!backlog) return false;
  if (backlog->first_refusal) {  // logged once until the connection has drained
    log_event("a client connection has %lld reply bytes unread (all: %lld): its requests are refused until it reads",
              static_cast<long long>(backlog->unsent), static_cast<long long>(backlog->total));
  }
  send_refusal(conn, request_id,
               api::wire_error(wire::ErrorCode::UNAVAILABLE,
                               backlog->verdict == net::ServeVerdict::kConnectionFull
                                   ? "this connection has " + std::to_string(backlog->unsent) +
                                         " bytes of replies unread; read them, then retry"
                                   : "member has too many unread replies; read yours, then retry"));
  return true;
}

// A refusal is sent only if ZeroMQ takes it now: held, it would grow what
// the connection leaves unread, which is what it answers.
void NodeLoop::send_refusal(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e) {
  if (!outputs_.open(conn).held.empty()) return;
  std::string bytes = api::encode_error(request_id, header(), e);
  meter_.answered(conn, bytes, Clock::now());
  reply_bytes_this_turn_ += bytes.size();
  if (outputs_.send_unheld(conn, bytes) == ConnectionOutputs::Sent::kGone) forget_connection(conn);
}

void NodeLoop::flush_held_output(Clock::time_point now) {
  for (const auto& conn : outputs_.flush_held(now, [this](Clock::time_point at) { note_retry(at); })) {
    forget_connection(conn);
  }
  // A connection without a watch stream needs no entry once ZeroMQ has let
  // go of all its replies.
  outputs_.sweep(now, [this](const net::ConnectionId& conn) { return stream_by_conn_.count(conn) != 0; });
}

void NodeLoop::forget_connection(const net::ConnectionId& conn) {
  meter_.forget(conn);
  auto it = stream_by_conn_.find(conn);
  if (it != stream_by_conn_.end()) close_stream(it->second);
  outputs_.forget(conn);
}

}  // namespace corral::server
