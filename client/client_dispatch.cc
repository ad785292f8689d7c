// Requests on their way: to which connection each goes (or waits), what an
// answer completes, when a failure is retried (retry.h) and when a deadline
// ends it.
#include "client/client_impl.h"

#include <zmq.h>

#include <algorithm>

namespace corral::client {

void Client::Impl::handle(const std::string& key, ResponseMessage& m) {
  auto it = inflight.find(m.id);
  if (it == inflight.end() || it->second->conn_key != key) return;  // a late answer
  Pending& p = *it->second;
  if (m.is_error()) {
    PendingPtr owned = std::move(it->second);
    inflight.erase(it);
    if (m.error.code == ErrorCode::kUnauthenticated && uses_session(*owned) && !owned->reauthenticated) {
      // The session token expired or was invalidated: a new one, then again.
      owned->reauthenticated = true;
      if (session_token == owned->sent_token) have_session = false;
      dispatch(std::move(owned));
      return;
    }
    fail_attempt(std::move(owned), Failure::kServerError, m.error);
    return;
  }
  if (!response_matches(p.body, m.body)) {
    PendingPtr owned = std::move(it->second);
    inflight.erase(it);
    complete(std::move(owned), make_error(ErrorCode::kBadResponse,
                                          "the member answered with another request kind"));
    return;
  }
  if (p.on_chunk) {
    const auto& chunk = std::get<SnapshotChunk>(m.body);
    p.got_chunk = true;
    p.sent_at = Clock::now();
    p.on_chunk(chunk);
    if (chunk.remaining_bytes > 0) return;
  }
  PendingPtr owned = std::move(it->second);
  inflight.erase(it);
  complete(std::move(owned), std::move(m.body));
}

void Client::Impl::dispatch(PendingPtr p) {
  const auto now = Clock::now();
  if (now >= p->deadline) {
    expire(std::move(p), false);
    return;
  }
  if (uses_session(*p) && !have_session) {
    awaiting_token.push_back(std::move(p));
    start_login();
    return;
  }
  const std::string target = p->pinned.empty() ? current : p->pinned;
  Conn* conn = get_conn(target);
  if (conn == nullptr) {
    complete(std::move(p), make_error(ErrorCode::kUnreachable, "cannot open a socket to " + target));
    return;
  }
  ++p->attempts;
  p->conn_key = target;
  if (p->pinned.empty() && !trusted(*conn, now)) {
    if (p->cls == RequestClass::kWrite) {
      hold(*conn, std::move(p));
      return;
    }
    ensure_probe(*conn);  // reads go now; the probe tells whether to wait for them
  } else if (p->cls == RequestClass::kWrite && !conn->held.empty()) {
    hold(*conn, std::move(p));  // behind the writes already waiting, in order
    return;
  }
  send_on(*conn, std::move(p));
}

// Hands `p` to the connection's socket: from here it may have left.
void Client::Impl::send_on(Conn& connection, PendingPtr p) {
  Conn* conn = &connection;
  const std::string target = conn->key;
  const auto now = Clock::now();
  const std::string& token = token_for(*p);
  if (p->sent_once || p->bytes.empty() || p->sent_token != token) {
    p->id = next_id.fetch_add(1);
    p->sent_token = token;
    Result<std::string> bytes = encode_request(p->id, p->body, token);
    if (!bytes.ok()) {
      complete(std::move(p), bytes.error());
      return;
    }
    p->bytes = std::move(bytes).value();
  }
  p->sent_once = true;
  p->conn_key = target;
  p->conn_up_at_send = conn->up;
  p->conn_ups_at_send = conn->ups;
  p->sent_at = now;
  bool taken;
  if (conn->tcp) {
    if (holding_writes && std::find(held_writes.begin(), held_writes.end(), target) == held_writes.end()) {
      conn->tcp->hold_writes();
      held_writes.push_back(target);
    }
    taken = conn->tcp->send(p->bytes) == net::ClientSendResult::kSent;
  } else {
    poller->used(conn->slot);  // a send can take the signal of a reply that came meanwhile
    taken = zmq_send(conn->dealer.handle(), p->bytes.data(), p->bytes.size(), ZMQ_DONTWAIT) >= 0;
  }
  if (!taken) {
    fail_attempt(std::move(p), Failure::kNeverDelivered,
                 make_error(ErrorCode::kBackpressure, "send queue to " + target + " is full"));
    return;
  }
  note_timers(*p);
  const uint64_t id = p->id;
  inflight.emplace(id, std::move(p));
}

// The next moment `p` needs the timer: its deadline, or its read attempt
// timeout (reads only: writes wait for their deadline).
Client::Impl::Clock::time_point Client::Impl::timer_due(const Pending& p) const {
  if (p.cls != RequestClass::kWrite && p.pinned.empty() && !p.got_chunk) {
    return std::min(p.deadline, p.sent_at + options.read_attempt_timeout);
  }
  return p.deadline;
}

void Client::Impl::fail_attempt(PendingPtr p, Failure failure, const Error& error) {
  if (p->got_chunk) {
    complete(std::move(p), make_error(error.code, "stream broken after it began: " + error.message));
    return;
  }
  const Decision d = decide(p->cls, failure, error);
  if (d.action == Action::kFail) {
    if (d.outcome_unknown) {
      Error e = make_error(ErrorCode::kTimeout, error.message);
      complete(std::move(p), std::move(e));
    } else {
      complete(std::move(p), error);
    }
    return;
  }
  p->last_error = error;
  if (!p->pinned.empty() || p->attempts >= options.max_attempts) {
    complete(std::move(p), error);
    return;
  }
  int64_t delay = backoff_ms(p->attempts, static_cast<int>(endpoints.size()));
  if (d.action == Action::kFollowHint) {
    Result<std::string> hint = normalise_endpoint(error.leader_hint);
    if (hint.ok() && hint.value() != p->conn_key && !is_suspect(hint.value(), Clock::now())) {
      set_current(hint.value());
      delay = 0;
    } else {
      rotate_from(p->conn_key);
    }
  } else {
    rotate_from(p->conn_key);
  }
  delayed.emplace(Clock::now() + milliseconds(delay), std::move(p));
}

// The deadline passed. `was_in_flight`: it was sent and not answered (as
// opposed to waiting for a retry after a definite failure).
void Client::Impl::expire(PendingPtr p, bool was_in_flight) {
  const auto cit = conns.find(p->conn_key);
  const Conn* conn = cit == conns.end() ? nullptr : cit->second.get();
  const bool may_have_arrived = was_in_flight && may_have_left(*p, conn);
  std::string why = "no answer within the deadline";
  if (p->last_error) why += " (last error: " + to_string(*p->last_error) + ")";
  Error error;
  if (p->cls == RequestClass::kWrite && may_have_arrived) {
    error = make_error(ErrorCode::kTimeout, "outcome unknown: " + why);
  } else if (may_have_arrived) {
    error = make_error(ErrorCode::kTimeout, why);
  } else if (p->last_error && p->last_error->code != ErrorCode::kUnreachable &&
             p->last_error->code != ErrorCode::kUnavailable &&
             // "not the leader; no leader known" only says no member could serve it.
             !(p->last_error->code == ErrorCode::kNotLeader && p->last_error->leader_hint.empty())) {
    error = *p->last_error;
  } else {
    error = make_error(ErrorCode::kUnreachable, "no member reachable: " + why);
  }
  complete(std::move(p), std::move(error));
}

void Client::Impl::check_timers(Clock::time_point now) {
  next_timer_due = Clock::time_point::max();
  std::vector<uint64_t> expired;
  std::vector<uint64_t> slow_reads;
  for (const auto& [id, p] : inflight) {
    if (now >= p->deadline) {
      expired.push_back(id);
    } else if (p->cls != RequestClass::kWrite && p->pinned.empty() && !p->got_chunk &&
               now - p->sent_at >= options.read_attempt_timeout) {
      slow_reads.push_back(id);
    }
  }
  for (uint64_t id : expired) {
    auto it = inflight.find(id);
    if (it == inflight.end()) continue;
    PendingPtr p = std::move(it->second);
    inflight.erase(it);
    expire(std::move(p), true);
  }
  for (uint64_t id : slow_reads) {
    auto it = inflight.find(id);
    if (it == inflight.end()) continue;
    PendingPtr p = std::move(it->second);
    inflight.erase(it);
    Error e = make_error(ErrorCode::kTimeout, "no answer from " + p->conn_key);
    fail_attempt(std::move(p), Failure::kNoAnswer, e);
  }
  // Held writes past their deadline never left.
  std::vector<PendingPtr> late;
  for (auto& [key, conn] : conns) {
    auto& held = conn->held;
    for (auto it = held.begin(); it != held.end();) {
      if (now >= (*it)->deadline) {
        late.push_back(std::move(*it));
        it = held.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (PendingPtr& p : late) expire(std::move(p), false);
  // Connections that never came up. Their monitor (or the TCP connection)
  // is read first: a CONNECTED event that came after the poll means it did
  // come up.
  std::vector<std::string> slow;
  for (const auto& [key, conn] : conns) {
    if (!conn->up && now - conn->created >= options.connect_timeout) slow.push_back(key);
  }
  for (const std::string& key : slow) {
    auto it = conns.find(key);
    if (it == conns.end()) continue;
    Conn* conn = it->second.get();
    if (conn->tcp) {
      if (service_tcp(conn, now)) release_held(key, conn);
    } else {
      read_monitor(conn);
    }
    it = conns.find(key);
    if (it != conns.end() && !it->second->up) close_conn(key, false);
  }
  // What remains (and what the handling above sent again) sets the next due time.
  for (const auto& [id, p] : inflight) note_timers(*p);
  for (const auto& [key, conn] : conns) {
    if (!conn->up) next_timer_due = std::min(next_timer_due, conn->created + options.connect_timeout);
    for (const PendingPtr& p : conn->held) next_timer_due = std::min(next_timer_due, p->deadline);
  }
}

}  // namespace corral::client
