#include "coordinator/server/connection_output.h"

#include <iterator>
#include <utility>

namespace corral::server {

ConnectionOutputs::Sent ConnectionOutputs::send(const net::ConnectionId& conn, std::string frame,
                                                Clock::time_point now) {
  auto& out = open(conn);
  net::ClientSendResult r;
  if (!out.held.empty()) {
    r = net::ClientSendResult::kBackpressure;  // behind what is held: keep the order
  } else {
    r = send_(conn, frame, out.in_zmq);
  }
  if (r == net::ClientSendResult::kSent) return Sent::kSent;
  if (r == net::ClientSendResult::kGone) {
    forget(conn);
    return Sent::kGone;
  }
  // kBackpressure: not lost, kept and retried (flush_held).
  if (out.held_bytes + frame.size() > max_held_bytes_) return Sent::kOverflow;
  if (out.held.empty()) {
    out.back_off(now);
    holding_.insert(conn);
  }
  out.held_bytes += frame.size();
  held_bytes_total_ += frame.size();
  out.held.push_back(std::move(frame));
  return Sent::kHeld;
}

ConnectionOutputs::Sent ConnectionOutputs::send_unheld(const net::ConnectionId& conn, std::string& frame) {
  auto& out = open(conn);
  if (!out.held.empty()) return Sent::kHeld;
  if (send_(conn, frame, out.in_zmq) == net::ClientSendResult::kGone) {
    forget(conn);
    return Sent::kGone;
  }
  return Sent::kSent;
}

std::vector<net::ConnectionId> ConnectionOutputs::flush_held(
    Clock::time_point now, const std::function<void(Clock::time_point)>& note_retry) {
  std::vector<net::ConnectionId> gone;
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
        r = send_(conn, out.held.front(), out.in_zmq);
        if (r != net::ClientSendResult::kSent) break;
        out.held.pop_front();
        out.held_bytes -= size;
        held_bytes_total_ -= size;
      }
      if (r == net::ClientSendResult::kGone) {
        forget(conn);
        gone.push_back(conn);
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
  return gone;
}

// An entry dropped earlier would forget bytes ZeroMQ still holds.
void ConnectionOutputs::sweep(Clock::time_point now, const std::function<bool(const net::ConnectionId&)>& keep) {
  if (now < next_sweep_) return;
  next_sweep_ = now + std::chrono::milliseconds(kOutputSweepIntervalMs);
  for (auto it = outputs_.begin(); it != outputs_.end();) {
    const bool idle = it->second.held.empty() && it->second.unsent() == 0 && !keep(it->first);
    it = idle ? outputs_.erase(it) : std::next(it);
  }
}

std::optional<ConnectionOutputs::Backlog> ConnectionOutputs::backlog(const net::ConnectionId& conn,
                                                                     const net::ReplyBudget& budget,
                                                                     int64_t queued_in_zmq_total) {
  auto it = outputs_.find(conn);
  if (it == outputs_.end()) return std::nullopt;
  auto& out = it->second;
  Backlog b;
  b.total = queued_in_zmq_total + static_cast<int64_t>(held_bytes_total_);
  b.unsent = out.unsent();
  b.verdict = net::serve_verdict(budget, b.unsent, b.total);
  if (b.verdict == net::ServeVerdict::kServe) return std::nullopt;
  b.first_refusal = !out.refusing;  // logged once until the connection has drained
  out.refusing = true;
  return b;
}

ConnectionOutput* ConnectionOutputs::find(const net::ConnectionId& conn) {
  auto it = outputs_.find(conn);
  return it == outputs_.end() ? nullptr : &it->second;
}

void ConnectionOutputs::forget(const net::ConnectionId& conn) {
  if (auto out = outputs_.find(conn); out != outputs_.end()) {
    held_bytes_total_ -= out->second.held_bytes;
    outputs_.erase(out);
  }
  holding_.erase(conn);
}

}  // namespace corral::server
