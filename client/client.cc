// The client's I/O thread and its state. Threading: user threads only push
// into `inbox` (under `mu`) and wake the poller; everything else below the
// "I/O thread only" line is touched by the I/O thread alone. Callbacks run on
// the I/O thread, never while it walks one of its maps: anything a callback
// asks for goes through the inbox too.
//
// Why the DEALER sockets are made here rather than by net::ClientConnection:
// the retry rule needs to know whether a request can have left the process,
// which needs a ZeroMQ socket monitor attached before the socket connects
// (ClientConnection connects inside create(), so its first CONNECTED event
// could be missed). Endpoint parsing and socket options still come from net/.
#include "client/client.h"

#include <fcntl.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <zmq.hpp>

#include "client/codec.h"
#include "client/retry.h"
#include "client/snapshot_digest.h"
#include "client/watch_cursor.h"
#include "coordinator/base/check.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/poller.h"
#include "coordinator/net/socket_options.h"

namespace corral::client {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The I/O thread sleeps until the next deadline it tracks (see
// next_timer_due), but never longer than this.
constexpr milliseconds kIdlePollMs{100};
// Messages read from one socket per loop turn, so one busy connection cannot
// starve timers and the inbox.
constexpr int kMaxMessagesPerTurn = 4096;
// ZMTP heartbeats: a member that stops answering pings (SIGSTOP, a cable
// pulled) is noticed as a disconnect without waiting for TCP.
constexpr int kHeartbeatIntervalMs = 1000;
constexpr int kHeartbeatTimeoutMs = 3000;
// Snapshot writes are flushed to disk in pieces no larger than this.
constexpr size_t kSnapshotWriteBytes = 1u << 20;
// An endpoint that left a probe unanswered is skipped by the rotation this
// long (unless every endpoint is), or until it answers something.
constexpr milliseconds kSuspectMs{3000};
// What a probe asks: served by any member from its own state, without raft.
constexpr const char* kProbeKey = "/";

Result<std::string> normalise_endpoint(const std::string& text) {
  corral::Result<net::Endpoint> e = net::parse_endpoint(text, net::EndpointUse::kConnect);
  if (!e.ok()) return make_error(ErrorCode::kBadRequest, e.error().message);
  return e->to_zmq();
}

}  // namespace

struct Client::Impl {
  struct Pending {
    uint64_t id = 0;
    RequestBody body;
    RequestClass cls = RequestClass::kRead;
    std::string bytes;  // encoded with `id`
    Clock::time_point deadline;
    Clock::time_point sent_at;
    std::function<void(Result<ResponseBody>)> done;
    // Internal requests (watch create/cancel) complete here instead of `done`.
    std::function<void(Pending&, Result<ResponseBody>)> internal_done;
    std::function<void(const SnapshotChunk&)> on_chunk;  // streaming replies
    bool counted = true;  // holds one of max_in_flight's slots
    int attempts = 0;
    std::string conn_key;       // endpoint of the current attempt
    bool conn_up_at_send = false;
    uint64_t conn_ups_at_send = 0;
    bool sent_once = false;     // `bytes` went to a socket: a resend needs a new id
    std::string pinned;         // non-empty: only this endpoint, no retry
    bool got_chunk = false;
    std::optional<Error> last_error;
    std::optional<std::string> token;  // CallOptions::token: instead of the session's
    std::string sent_token;            // the token `bytes` carry
    bool reauthenticated = false;      // one new session token per request at most
  };
  using PendingPtr = std::unique_ptr<Pending>;

  struct Conn {
    std::string key;
    zmq::socket_t dealer;
    zmq::socket_t monitor;
    size_t slot = 0;
    size_t monitor_slot = 0;
    bool up = false;
    uint64_t ups = 0;  // how many times it came up
    Clock::time_point created;
    // Trust (see client.h): when the member last sent us anything.
    bool heard = false;
    Clock::time_point last_heard;
    uint64_t probe_id = 0;  // the probe in flight, 0: none
    // Writes waiting for this member to answer: never handed to ZeroMQ, so
    // they may go to another endpoint.
    std::deque<PendingPtr> held;
  };

  struct WatchEntry {
    uint64_t id = 0;
    WatchOptions spec;
    WatchCursor cursor{0};
    WatchCallback callback;
    std::string conn_key;
    int64_t server_id = -1;  // -1: not created on any connection now
    bool creating = false;
    int recreates_without_progress = 0;
  };

  Options options;
  std::vector<std::string> endpoints;  // normalised
  // CURVE on: the server key of each normalised endpoint; an endpoint not
  // in it (one learned from a member) uses curve_any_server_key if set.
  std::map<std::string, std::string> curve_server_key_by_endpoint;
  std::string curve_any_server_key;
  std::shared_ptr<zmq::context_t> context;
  std::unique_ptr<net::Poller> poller;
  std::thread thread;
  std::thread::id thread_id;

  // Shared with user threads, under mu.
  std::mutex mu;
  std::condition_variable slots_cv;
  std::deque<PendingPtr> inbox;
  std::deque<std::function<void()>> commands;
  size_t outstanding = 0;
  bool stopping = false;
  std::string current_public;
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint64_t> next_watch_id{1};

  // --- I/O thread only ---
  std::map<std::string, std::unique_ptr<Conn>> conns;
  std::unordered_map<size_t, std::pair<Conn*, bool>> by_slot;  // slot -> (conn, is monitor)
  std::vector<std::unique_ptr<Conn>> graveyard;  // closed this turn, freed after it
  std::string current;
  size_t rotation = 0;
  std::unordered_map<uint64_t, PendingPtr> inflight;
  std::multimap<Clock::time_point, PendingPtr> delayed;
  std::map<uint64_t, WatchEntry> watches;
  std::map<std::pair<std::string, int64_t>, uint64_t> watch_by_server;
  std::map<std::string, Clock::time_point> suspect_until;  // endpoint -> end of suspicion
  // Options::user's token; requests that need it wait while it is fetched.
  std::string session_token;  // empty: the cluster has auth disabled
  bool have_session = false;
  bool authenticating = false;
  std::deque<PendingPtr> awaiting_token;
  // The earliest moment check_timers has something to do: a deadline, a
  // read attempt timeout or a connect timeout. Lowered as requests are sent
  // and connections made, recomputed by each check_timers, so the thread
  // wakes for timers only when one is due (not on a fixed tick: a bench
  // with a hundred clients would otherwise spend a core on idle wake-ups).
  Clock::time_point next_timer_due = Clock::time_point::max();
  uint64_t monitor_seq = 0;

  // ---------------------------------------------------------------- user side

  bool on_io_thread() const { return std::this_thread::get_id() == thread_id; }

  void wake() { poller->wake(); }

  void enqueue(PendingPtr p) {
    bool was_empty;
    {
      std::unique_lock lock(mu);
      if (stopping) {
        lock.unlock();
        complete(std::move(p), make_error(ErrorCode::kClosed, "client closed"));
        return;
      }
      was_empty = inbox.empty() && commands.empty();
      inbox.push_back(std::move(p));
    }
    if (was_empty && !on_io_thread()) wake();
  }

  // False if the client is stopping (the command will never run).
  bool post(std::function<void()> command) {
    {
      std::lock_guard lock(mu);
      if (stopping) return false;
      commands.push_back(std::move(command));
    }
    if (!on_io_thread()) wake();
    return true;
  }

  // Takes a slot for a counted request: blocks a user thread up to
  // `deadline`, never the I/O thread.
  Status acquire_slot(Clock::time_point deadline) {
    std::unique_lock lock(mu);
    if (stopping) return make_error(ErrorCode::kClosed, "client closed");
    auto has_room = [&] { return stopping || outstanding < options.max_in_flight; };
    if (!has_room()) {
      if (on_io_thread() || !slots_cv.wait_until(lock, deadline, has_room)) {
        return make_error(ErrorCode::kBackpressure,
                          std::to_string(options.max_in_flight) + " requests already in flight");
      }
      if (stopping) return make_error(ErrorCode::kClosed, "client closed");
    }
    ++outstanding;
    return {};
  }

  void release_slot() {
    {
      std::lock_guard lock(mu);
      --outstanding;
    }
    slots_cv.notify_one();
  }

  // ---------------------------------------------------------------- I/O thread

  void run() {
    while (true) {
      std::deque<PendingPtr> new_pending;
      std::deque<std::function<void()>> new_commands;
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        new_pending.swap(inbox);
        new_commands.swap(commands);
      }
      for (auto& c : new_commands) c();
      for (auto& p : new_pending) dispatch(std::move(p));

      milliseconds timeout = kIdlePollMs;
      const auto before = Clock::now();
      auto until = [&](Clock::time_point t) {
        // Rounded up, so that the wait never ends just before `t`.
        return std::chrono::ceil<milliseconds>(t - before);
      };
      if (next_timer_due != Clock::time_point::max()) timeout = std::min(timeout, until(next_timer_due));
      if (!delayed.empty()) timeout = std::min(timeout, until(delayed.begin()->first));
      timeout = std::max(milliseconds(0), timeout);
      {
        std::lock_guard lock(mu);
        if (!inbox.empty() || !commands.empty()) timeout = milliseconds(0);
      }
      corral::Result<net::PollResult> polled = poller->wait(timeout);
      if (!polled.ok()) break;  // context terminated
      for (size_t slot : polled->readable) {
        auto it = by_slot.find(slot);
        if (it == by_slot.end()) continue;
        Conn* conn = it->second.first;
        if (it->second.second) {
          read_monitor(conn);
        } else if (read_replies(conn)) {
          release_held(conn->key, conn);
        }
      }
      const auto now = Clock::now();
      while (!delayed.empty() && delayed.begin()->first <= now) {
        PendingPtr p = std::move(delayed.begin()->second);
        delayed.erase(delayed.begin());
        dispatch(std::move(p));
      }
      if (now >= next_timer_due) check_timers(now);
      graveyard.clear();
    }
    shutdown();
  }

  void shutdown() {
    std::vector<PendingPtr> all;
    for (auto& [id, p] : inflight) all.push_back(std::move(p));
    for (auto& [t, p] : delayed) all.push_back(std::move(p));
    for (auto& [key, conn] : conns) {
      for (auto& p : conn->held) all.push_back(std::move(p));
      conn->held.clear();
    }
    for (auto& p : awaiting_token) all.push_back(std::move(p));
    awaiting_token.clear();
    inflight.clear();
    delayed.clear();
    {
      std::lock_guard lock(mu);
      for (auto& p : inbox) all.push_back(std::move(p));
      inbox.clear();
      commands.clear();
    }
    for (auto& p : all) complete(std::move(p), make_error(ErrorCode::kClosed, "client closed"));
    for (auto& [id, w] : watches) {
      WatchUpdate u;
      u.error = make_error(ErrorCode::kClosed, "client closed");
      call_watch(w, u);
    }
    watches.clear();
    conns.clear();
    graveyard.clear();
  }

  void set_current(const std::string& endpoint) {
    if (current == endpoint) return;
    current = endpoint;
    std::lock_guard lock(mu);
    current_public = endpoint;
  }

  // Moves requests on to the next endpoint, once per failure of `failed`
  // (many requests failing on one endpoint rotate once, not many times).
  // Suspect endpoints are skipped while another one is not.
  void rotate_from(const std::string& failed) {
    if (current != failed) return;
    const auto now = Clock::now();
    std::optional<size_t> fallback;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      rotation = (rotation + 1) % endpoints.size();
      const std::string& e = endpoints[rotation];
      if (e == failed && endpoints.size() > 1) continue;
      if (!is_suspect(e, now)) {
        set_current(e);
        return;
      }
      if (!fallback) fallback = rotation;
    }
    if (fallback) rotation = *fallback;
    set_current(endpoints[rotation]);
  }

  bool is_suspect(const std::string& endpoint, Clock::time_point now) const {
    auto it = suspect_until.find(endpoint);
    return it != suspect_until.end() && now < it->second;
  }

  bool trusted(const Conn& conn, Clock::time_point now) const {
    return conn.heard && now - conn.last_heard < options.trust_window;
  }

  Conn* get_conn(const std::string& key) {
    if (auto it = conns.find(key); it != conns.end()) return it->second.get();
    corral::Result<net::Endpoint> endpoint = net::parse_endpoint(key, net::EndpointUse::kConnect);
    if (!endpoint.ok()) return nullptr;
    auto conn = std::make_unique<Conn>();
    conn->key = key;
    conn->created = Clock::now();
    try {
      conn->dealer = zmq::socket_t(*context, zmq::socket_type::dealer);
      net::set_common_options(conn->dealer);
      conn->dealer.set(zmq::sockopt::sndhwm, static_cast<int>(options.max_in_flight));
      // Unbounded on our side: the member bounds what it buffers per watcher,
      // and a full receive queue would make its ROUTER drop replies.
      conn->dealer.set(zmq::sockopt::rcvhwm, 0);
      conn->dealer.set(zmq::sockopt::heartbeat_ivl, kHeartbeatIntervalMs);
      conn->dealer.set(zmq::sockopt::heartbeat_timeout, kHeartbeatTimeoutMs);
      if (endpoint->ipv6) conn->dealer.set(zmq::sockopt::ipv6, true);
      if (!options.curve_server_keys.empty()) {
        auto listed = curve_server_key_by_endpoint.find(key);
        const std::string& server_key =
            listed != curve_server_key_by_endpoint.end() ? listed->second : curve_any_server_key;
        if (server_key.empty()) return nullptr;  // no key known for it: never spoken to in clear
        net::CurveClientKeys keys{{options.curve_public_key, options.curve_secret_key}, server_key};
        if (!net::set_curve_client(conn->dealer, keys).ok()) return nullptr;
      }
      const std::string monitor_address =
          "inproc://corral-client-monitor-" + std::to_string(reinterpret_cast<uintptr_t>(this)) +
          "-" + std::to_string(++monitor_seq);
      if (zmq_socket_monitor(conn->dealer.handle(), monitor_address.c_str(),
                             ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED) != 0) {
        return nullptr;
      }
      conn->monitor = zmq::socket_t(*context, zmq::socket_type::pair);
      conn->monitor.set(zmq::sockopt::linger, 0);
      conn->monitor.connect(monitor_address);
      conn->dealer.connect(endpoint->to_zmq());
    } catch (const zmq::error_t&) {
      return nullptr;
    }
    conn->slot = poller->add(conn->dealer, net::Tracking::kOwnerReportsUse);
    conn->monitor_slot = poller->add(conn->monitor, net::Tracking::kOwnerReportsUse);
    next_timer_due = std::min(next_timer_due, conn->created + options.connect_timeout);
    by_slot[conn->slot] = {conn.get(), false};
    by_slot[conn->monitor_slot] = {conn.get(), true};
    Conn* raw = conn.get();
    conns[key] = std::move(conn);
    return raw;
  }

  // Whether what was sent on `conn` since the attempt began may have left. A
  // write handed to ZeroMQ may have left whatever the monitor has told us so
  // far: its CONNECTED event can still be queued, unread, while the bytes go.
  static bool may_have_left(const Pending& p, const Conn* conn) {
    if (p.cls == RequestClass::kWrite || p.conn_up_at_send) return true;
    return conn != nullptr && conn->ups > p.conn_ups_at_send;
  }

  // Closes a connection: its requests fail over, its watches are re-created.
  void close_conn(const std::string& key, bool lost) {
    auto it = conns.find(key);
    if (it == conns.end()) return;
    std::unique_ptr<Conn> conn = std::move(it->second);
    conns.erase(it);
    by_slot.erase(conn->slot);
    by_slot.erase(conn->monitor_slot);
    (void)poller->remove(conn->slot);
    (void)poller->remove(conn->monitor_slot);
    zmq_socket_monitor(conn->dealer.handle(), nullptr, 0);

    std::vector<uint64_t> ids;
    for (const auto& [id, p] : inflight) {
      if (p->conn_key == key) ids.push_back(id);
    }
    std::vector<std::pair<PendingPtr, Failure>> failed;
    for (uint64_t id : ids) {
      auto pit = inflight.find(id);
      PendingPtr p = std::move(pit->second);
      inflight.erase(pit);
      const Failure f = (lost && may_have_left(*p, conn.get())) ? Failure::kConnectionLost
                                                                : Failure::kNeverDelivered;
      failed.emplace_back(std::move(p), f);
    }
    for (PendingPtr& p : conn->held) failed.emplace_back(std::move(p), Failure::kNeverDelivered);
    conn->held.clear();
    for (auto& [id, w] : watches) {
      if (w.conn_key != key || w.server_id < 0) continue;
      watch_by_server.erase({key, w.server_id});
      w.server_id = -1;
      w.conn_key.clear();
      start_watch_create(w, milliseconds(0));
    }
    graveyard.push_back(std::move(conn));
    rotate_from(key);
    const Error err = make_error(lost ? ErrorCode::kUnavailable : ErrorCode::kUnreachable,
                                 (lost ? "connection lost to " : "could not connect to ") + key);
    for (auto& [p, f] : failed) fail_attempt(std::move(p), f, err);
  }

  void read_monitor(Conn* conn) {
    const std::string key = conn->key;
    for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
      zmq::message_t event;
      zmq::message_t address;
      if (zmq_msg_recv(event.handle(), conn->monitor.handle(), ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN) poller->drained(conn->monitor_slot);
        return;
      }
      if (event.more()) {
        if (zmq_msg_recv(address.handle(), conn->monitor.handle(), ZMQ_DONTWAIT) < 0) return;
      }
      if (event.size() < sizeof(uint16_t)) continue;
      uint16_t id = 0;
      std::memcpy(&id, event.data(), sizeof(id));
      if (id == ZMQ_EVENT_CONNECTED) {
        if (!conn->up) {
          conn->up = true;
          ++conn->ups;
        }
      } else if (id == ZMQ_EVENT_DISCONNECTED) {
        read_replies(conn);  // answers that arrived before the break still count
        close_conn(key, true);
        return;  // conn is in the graveyard now
      } else if (id == ZMQ_EVENT_CONNECT_RETRIED && !conn->up) {
        // Refused (nobody listens: the member is down): give up on it now
        // rather than at connect_timeout. Nothing was sent on it. This is
        // what makes a leader's death cheap: the members still name it in
        // their hints until they elect another.
        close_conn(key, false);
        return;
      }
    }
  }

  // True if anything arrived (the member is alive: see release_held).
  bool read_replies(Conn* conn) {
    const std::string key = conn->key;
    bool received = false;
    for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
      if (auto it = conns.find(key); it == conns.end() || it->second.get() != conn) return received;
      zmq::message_t frame;
      if (zmq_msg_recv(frame.handle(), conn->dealer.handle(), ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN) poller->drained(conn->slot);
        return received;
      }
      if (!conn->up) {
        conn->up = true;
        ++conn->ups;
      }
      received = true;
      conn->heard = true;
      conn->last_heard = Clock::now();
      // Drop extra frames: a member sends one frame per message.
      while (frame.more()) {
        zmq::message_t extra;
        if (zmq_msg_recv(extra.handle(), conn->dealer.handle(), ZMQ_DONTWAIT) < 0) break;
        if (!extra.more()) break;
      }
      Result<ServerMessage> msg =
          decode_server_message(std::string_view(frame.data<char>(), frame.size()));
      if (!msg.ok()) continue;  // nothing to match it to; its request times out
      std::visit([&](auto& m) { handle(key, m); }, msg.value());
    }
    return received;
  }

  // `conn` (at `key`) has just answered: it is no longer suspect, and the
  // writes held for it go out, in the order they came.
  void release_held(const std::string& key, Conn* conn) {
    auto it = conns.find(key);
    if (it == conns.end() || it->second.get() != conn) return;
    suspect_until.erase(key);
    std::deque<PendingPtr> held = std::move(conn->held);
    conn->held.clear();
    for (PendingPtr& p : held) send_on(*conn, std::move(p));
  }

  void hold(Conn& conn, PendingPtr p) {
    next_timer_due = std::min(next_timer_due, p->deadline);
    conn.held.push_back(std::move(p));
    ensure_probe(conn);
  }

  void ensure_probe(Conn& conn) {
    if (conn.probe_id != 0) return;
    auto p = std::make_unique<Pending>();
    RangeRequest probe;
    probe.key = kProbeKey;
    probe.count_only = true;
    probe.serializable = true;
    p->id = next_id.fetch_add(1);
    Result<std::string> bytes = encode_request(p->id, probe);
    CORRAL_CHECK(bytes.ok());
    p->bytes = std::move(bytes).value();
    p->body = std::move(probe);
    p->cls = RequestClass::kRead;
    p->counted = false;
    p->pinned = conn.key;
    p->conn_key = conn.key;
    p->deadline = Clock::now() + options.probe_timeout;
    p->internal_done = [this](Pending& done, Result<ResponseBody>) { probe_ended(done); };
    conn.probe_id = p->id;
    send_on(conn, std::move(p));
  }

  // Any answer, even an error, shows the member alive (read_replies has
  // released what it held); no answer within probe_timeout makes it suspect.
  void probe_ended(const Pending& probe) {
    auto it = conns.find(probe.conn_key);
    if (it == conns.end() || it->second->probe_id != probe.id) return;
    Conn& conn = *it->second;
    conn.probe_id = 0;
    const auto now = Clock::now();
    if (trusted(conn, now) && conn.last_heard >= probe.sent_at) return;
    give_up_on(conn, now);
  }

  // The member at `conn` does not answer: what it holds never left and goes
  // elsewhere, so do the repeatable requests waiting there. Writes it was
  // sent stay: they may yet be answered, else end as outcome unknown.
  void give_up_on(Conn& conn, Clock::time_point now) {
    const std::string key = conn.key;
    suspect_until[key] = now + kSuspectMs;
    std::deque<PendingPtr> held = std::move(conn.held);
    conn.held.clear();
    std::vector<PendingPtr> reads;
    for (auto it = inflight.begin(); it != inflight.end();) {
      const Pending& p = *it->second;
      if (p.conn_key == key && p.cls != RequestClass::kWrite && p.pinned.empty() && !p.got_chunk) {
        reads.push_back(std::move(it->second));
        it = inflight.erase(it);
      } else {
        ++it;
      }
    }
    rotate_from(key);
    const std::string why = key + " did not answer a probe within " +
                            std::to_string(options.probe_timeout.count()) + " ms";
    for (PendingPtr& p : held) {
      fail_attempt(std::move(p), Failure::kNeverDelivered, make_error(ErrorCode::kUnavailable, why));
    }
    for (PendingPtr& p : reads) {
      fail_attempt(std::move(p), Failure::kNoAnswer, make_error(ErrorCode::kTimeout, why));
    }
  }

  void handle(const std::string& key, ResponseMessage& m) {
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

  void handle(const std::string& key, WatchEventsMessage& m) {
    for (int64_t server_id : m.watch_ids) {
      auto it = watch_by_server.find({key, server_id});
      if (it == watch_by_server.end()) continue;
      auto wit = watches.find(it->second);
      if (wit == watches.end()) continue;
      WatchEntry& w = wit->second;
      WatchUpdate u;
      u.events = w.cursor.accept(m.events);
      u.revision = m.header.revision;
      if (u.events.empty()) continue;
      w.recreates_without_progress = 0;
      call_watch(w, u);
    }
  }

  void handle(const std::string& key, WatchControlMessage& m) {
    auto it = watch_by_server.find({key, m.watch_id});
    if (it == watch_by_server.end()) return;
    const uint64_t local = it->second;
    auto wit = watches.find(local);
    if (wit == watches.end()) return;
    WatchEntry& w = wit->second;
    if (!m.canceled) {
      w.cursor.on_progress(m.header.revision);
      WatchUpdate u;
      u.progress = true;
      u.revision = m.header.revision;
      call_watch(w, u);
      return;
    }
    watch_by_server.erase(it);
    w.server_id = -1;
    w.conn_key.clear();
    if (m.cancel_reason.code == ErrorCode::kCompacted ||
        ++w.recreates_without_progress > kMaxWatchRecreatesWithoutProgress) {
      end_watch(local, m.cancel_reason);
      return;
    }
    start_watch_create(w, milliseconds(backoff_ms(w.recreates_without_progress, 1)));
  }

  void call_watch(WatchEntry& w, const WatchUpdate& u) {
    try {
      w.callback(u);
    } catch (...) {
      // A throwing callback must not take the I/O thread down with it.
    }
  }

  void end_watch(uint64_t local, const Error& error) {
    auto it = watches.find(local);
    if (it == watches.end()) return;
    WatchUpdate u;
    u.error = error;
    call_watch(it->second, u);
    watches.erase(local);
  }

  void start_watch_create(WatchEntry& w, milliseconds delay) {
    if (w.creating) return;
    w.creating = true;
    auto p = std::make_unique<Pending>();
    WatchCreateRequest req;
    req.key = w.spec.key;
    req.range_end = w.spec.range_end;
    req.start_revision = w.cursor.resume_revision();
    req.prev_kv = w.spec.prev_kv;
    req.progress_notify = w.spec.progress_notify;
    req.no_put = w.spec.no_put;
    req.no_delete = w.spec.no_delete;
    p->body = req;
    p->token = w.spec.token;
    p->cls = RequestClass::kRead;
    p->counted = false;
    p->deadline = Clock::now() + delay + options.request_timeout;
    const uint64_t local = w.id;
    p->internal_done = [this, local](Pending& done, Result<ResponseBody> r) {
      watch_created(local, done, std::move(r));
    };
    delayed.emplace(Clock::now() + delay, std::move(p));
  }

  void watch_created(uint64_t local, Pending& p, Result<ResponseBody> r) {
    auto it = watches.find(local);
    if (it == watches.end()) {
      // Canceled while being created: cancel it on the member too.
      if (r.ok()) send_watch_cancel(p.conn_key, std::get<WatchCreateResult>(r.value()).watch_id);
      return;
    }
    WatchEntry& w = it->second;
    w.creating = false;
    if (!r.ok()) {
      const Error& e = r.error();
      const bool transient = e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kNotLeader ||
                             e.code == ErrorCode::kTimeout || e.code == ErrorCode::kUnreachable;
      if (!transient || ++w.recreates_without_progress > kMaxWatchRecreatesWithoutProgress) {
        end_watch(local, e);
        return;
      }
      start_watch_create(w, milliseconds(backoff_ms(w.recreates_without_progress, 1)));
      return;
    }
    const auto& created = std::get<WatchCreateResult>(r.value());
    if (conns.find(p.conn_key) == conns.end()) {
      // Its connection closed after the answer was read: create again.
      start_watch_create(w, milliseconds(0));
      return;
    }
    w.server_id = created.watch_id;
    w.conn_key = p.conn_key;
    w.cursor.on_created(created.header.revision);
    watch_by_server[{w.conn_key, w.server_id}] = local;
    WatchUpdate u;
    u.created = true;
    u.revision = created.header.revision;
    call_watch(w, u);
  }

  void send_watch_cancel(const std::string& conn_key, int64_t server_id) {
    if (conns.find(conn_key) == conns.end()) return;  // gone with its connection
    auto p = std::make_unique<Pending>();
    p->body = WatchCancelRequest{server_id};
    p->cls = RequestClass::kIdempotent;
    p->counted = false;
    p->pinned = conn_key;
    p->deadline = Clock::now() + options.request_timeout;
    p->internal_done = [](Pending&, Result<ResponseBody>) {};
    dispatch(std::move(p));
  }

  void cancel_watch(uint64_t local) {
    auto it = watches.find(local);
    if (it == watches.end()) return;
    WatchEntry& w = it->second;
    if (w.server_id >= 0) {
      watch_by_server.erase({w.conn_key, w.server_id});
      send_watch_cancel(w.conn_key, w.server_id);
    }
    watches.erase(it);
  }

  // ---------------------------------------------------------------- session token

  static bool is_login(const Pending& p) {
    auto* a = std::get_if<AuthRequest>(&p.body);
    return a != nullptr && a->kind == AuthRequest::Kind::kAuthenticate;
  }
  bool uses_session(const Pending& p) const { return !options.user.empty() && !p.token && !is_login(p); }
  const std::string& token_for(const Pending& p) const {
    static const std::string kNone;
    if (p.token) return *p.token;
    return uses_session(p) ? session_token : kNone;
  }

  void start_login() {
    if (authenticating) return;
    authenticating = true;
    auto p = std::make_unique<Pending>();
    AuthRequest login;
    login.kind = AuthRequest::Kind::kAuthenticate;
    login.name = options.user;
    login.password = options.password;
    p->body = std::move(login);
    p->cls = RequestClass::kRead;
    p->counted = false;
    p->deadline = Clock::now() + options.request_timeout;
    p->internal_done = [this](Pending&, Result<ResponseBody> r) { login_done(std::move(r)); };
    dispatch(std::move(p));
  }

  void login_done(Result<ResponseBody> r) {
    authenticating = false;
    std::deque<PendingPtr> waiting = std::move(awaiting_token);
    awaiting_token.clear();
    if (r.ok()) {
      session_token = std::get<AuthResult>(r.value()).token;
      have_session = true;
      for (auto& p : waiting) dispatch(std::move(p));
      return;
    }
    Error e = r.error();
    e.message = "authenticating as " + options.user + ": " + e.message;
    for (auto& p : waiting) complete(std::move(p), e);
  }

  void dispatch(PendingPtr p) {
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
  void send_on(Conn& connection, PendingPtr p) {
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
    poller->used(conn->slot);  // a send can take the signal of a reply that came meanwhile
    if (zmq_send(conn->dealer.handle(), p->bytes.data(), p->bytes.size(), ZMQ_DONTWAIT) < 0) {
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
  Clock::time_point timer_due(const Pending& p) const {
    if (p.cls != RequestClass::kWrite && p.pinned.empty() && !p.got_chunk) {
      return std::min(p.deadline, p.sent_at + options.read_attempt_timeout);
    }
    return p.deadline;
  }
  void note_timers(const Pending& p) { next_timer_due = std::min(next_timer_due, timer_due(p)); }

  void fail_attempt(PendingPtr p, Failure failure, const Error& error) {
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
  void expire(PendingPtr p, bool was_in_flight) {
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
               p->last_error->code != ErrorCode::kUnavailable) {
      error = *p->last_error;
    } else {
      error = make_error(ErrorCode::kUnreachable, "no member reachable: " + why);
    }
    complete(std::move(p), std::move(error));
  }

  void check_timers(Clock::time_point now) {
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
    // Connections that never came up. Their monitor is read first: a
    // CONNECTED event that came after the poll means it did come up.
    std::vector<std::string> slow;
    for (const auto& [key, conn] : conns) {
      if (!conn->up && now - conn->created >= options.connect_timeout) slow.push_back(key);
    }
    for (const std::string& key : slow) {
      auto it = conns.find(key);
      if (it == conns.end()) continue;
      read_monitor(it->second.get());
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

  void complete(PendingPtr p, Result<ResponseBody> result) {
    if (p->internal_done) {
      p->internal_done(*p, std::move(result));
      return;
    }
    try {
      if (p->done) p->done(std::move(result));
    } catch (...) {
      // A throwing callback must not take the I/O thread down with it.
    }
    if (p->counted) release_slot();
  }
};

// ------------------------------------------------------------------ WatchHandle

WatchHandle::WatchHandle(WatchHandle&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {
  other.id_ = 0;
}

WatchHandle& WatchHandle::operator=(WatchHandle&& other) noexcept {
  if (this != &other) {
    cancel();
    state_ = std::move(other.state_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

WatchHandle::~WatchHandle() { cancel(); }

void WatchHandle::cancel() {
  if (id_ == 0) return;
  if (std::shared_ptr<void> locked = state_.lock()) {
    auto impl = std::static_pointer_cast<Client::Impl>(locked);
    const uint64_t id = id_;
    if (impl->on_io_thread()) {
      impl->post([impl = impl.get(), id] { impl->cancel_watch(id); });
    } else {
      // Wait until it is done, so that no callback runs after cancel() returns.
      auto done = std::make_shared<std::promise<void>>();
      std::future<void> finished = done->get_future();
      if (impl->post([impl = impl.get(), id, done] {
            impl->cancel_watch(id);
            done->set_value();
          })) {
        finished.wait();  // also returns if the client stops first (broken promise)
      }
    }
  }
  id_ = 0;
}

// ------------------------------------------------------------------ Client

Client::Client(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Client>> Client::connect(Options options) {
  if (options.endpoints.empty()) return make_error(ErrorCode::kBadRequest, "no endpoints given");
  if (options.max_in_flight == 0 || options.max_attempts <= 0 ||
      options.request_timeout.count() <= 0 || options.connect_timeout.count() <= 0 ||
      options.read_attempt_timeout.count() <= 0 || options.trust_window.count() <= 0 ||
      options.probe_timeout.count() <= 0) {
    return make_error(ErrorCode::kBadRequest,
                      "max_in_flight, max_attempts and every timeout must be positive");
  }
  auto impl = std::make_shared<Impl>();
  for (const std::string& e : options.endpoints) {
    Result<std::string> n = normalise_endpoint(e);
    if (!n.ok()) return make_error(ErrorCode::kBadRequest, n.error().message);
    impl->endpoints.push_back(n.value());
  }
  const bool curve = !options.curve_server_keys.empty() || !options.curve_public_key.empty() ||
                     !options.curve_secret_key.empty();
  if (curve) {
    if (options.curve_server_keys.empty() || options.curve_public_key.empty() || options.curve_secret_key.empty()) {
      return make_error(ErrorCode::kBadRequest, "CURVE needs the client's key pair and the members' public keys");
    }
    if (options.curve_server_keys.size() != 1 && options.curve_server_keys.size() != impl->endpoints.size()) {
      return make_error(ErrorCode::kBadRequest, "CURVE: give one server key for all endpoints or one per endpoint (" +
                                                    std::to_string(impl->endpoints.size()) + "), not " +
                                                    std::to_string(options.curve_server_keys.size()));
    }
    if (!net::curve_available()) return make_error(ErrorCode::kUnavailable, "libzmq has no CURVE support");
    for (size_t i = 0; i < impl->endpoints.size(); ++i) {
      impl->curve_server_key_by_endpoint[impl->endpoints[i]] =
          options.curve_server_keys[options.curve_server_keys.size() == 1 ? 0 : i];
    }
    if (options.curve_server_keys.size() == 1) impl->curve_any_server_key = options.curve_server_keys[0];
  }
  impl->context = options.context ? options.context : std::make_shared<zmq::context_t>(1);
  impl->options = std::move(options);
  corral::Result<std::unique_ptr<net::Poller>> poller = net::Poller::create();
  if (!poller.ok()) return make_error(ErrorCode::kUnavailable, poller.error().message);
  impl->poller = std::move(poller).value();
  impl->current = impl->endpoints.front();
  impl->current_public = impl->current;
  // The thread id is set before any call can compare against it.
  // Shared so that set_value never runs on a promise connect() has destroyed.
  auto started = std::make_shared<std::promise<void>>();
  std::future<void> running = started->get_future();
  impl->thread = std::thread([raw = impl.get(), started] {
    raw->thread_id = std::this_thread::get_id();
    started->set_value();
    raw->run();
  });
  running.wait();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::~Client() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake();
  impl_->slots_cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Client::submit(RequestBody body, CallOptions options,
                    std::function<void(Result<ResponseBody>)> done) {
  const auto timeout = options.timeout.count() > 0 ? options.timeout : impl_->options.request_timeout;
  const auto deadline = Clock::now() + timeout;
  if (Status s = impl_->acquire_slot(deadline); !s.ok()) {
    done(s.error());
    return;
  }
  auto p = std::make_unique<Impl::Pending>();
  p->cls = classify(body);
  p->id = impl_->next_id.fetch_add(1);
  p->token = std::move(options.token);
  if (p->token) p->sent_token = *p->token;
  // A session token is added when sent (send_on): the bound is checked here
  // without it.
  Result<std::string> bytes = encode_request(p->id, body, p->sent_token);
  if (bytes.ok() && bytes->size() > impl_->options.max_request_bytes) {
    bytes = make_error(ErrorCode::kTooLarge, "request of " + std::to_string(bytes->size()) +
                                                 " bytes is past the " +
                                                 std::to_string(impl_->options.max_request_bytes) +
                                                 "-byte bound (Options::max_request_bytes)");
  }
  if (!bytes.ok()) {
    impl_->release_slot();
    done(bytes.error());
    return;
  }
  p->bytes = std::move(bytes).value();
  p->body = std::move(body);
  p->deadline = deadline;
  p->done = std::move(done);
  impl_->enqueue(std::move(p));
}

Result<ResponseBody> Client::call_blocking(RequestBody body, CallOptions options) {
  if (impl_->on_io_thread()) {
    return make_error(ErrorCode::kBadRequest, "blocking call from a client callback");
  }
  auto promise = std::make_shared<std::promise<Result<ResponseBody>>>();
  auto future = promise->get_future();
  submit(std::move(body), options,
         [promise](Result<ResponseBody> r) { promise->set_value(std::move(r)); });
  return future.get();  // the I/O thread completes every request by its deadline
}

Result<PutResult> Client::put(std::string key, std::string value, int64_t lease) {
  PutRequest r;
  r.key = std::move(key);
  r.value = std::move(value);
  r.lease = lease;
  return call(std::move(r));
}

Result<RangeResult> Client::get(std::string key, bool serializable) {
  RangeRequest r;
  r.key = std::move(key);
  r.serializable = serializable;
  return call(std::move(r));
}

Result<RangeResult> Client::get_prefix(std::string prefix, bool serializable) {
  RangeRequest r;
  r.range_end = prefix_range_end(prefix);
  r.key = std::move(prefix);
  r.serializable = serializable;
  return call(std::move(r));
}

Result<DeleteResult> Client::del(std::string key, std::string range_end) {
  return call(DeleteRequest{std::move(key), std::move(range_end), false});
}

Result<ListResult> Client::list(std::string dir, int64_t revision) {
  ListRequest r;
  r.dir = std::move(dir);
  r.revision = revision;
  return call(std::move(r));
}

Result<CompactResult> Client::compact(int64_t revision) { return call(CompactRequest{revision}); }

Result<LeaseGrantResult> Client::lease_grant(int64_t ttl_seconds, int64_t id) {
  return call(LeaseGrantRequest{ttl_seconds, id, {}});
}

Result<LeaseGrantResult> Client::lease_grant_with_keys(int64_t ttl_seconds, std::vector<LeaseKeyPut> puts) {
  return call(LeaseGrantRequest{ttl_seconds, 0, std::move(puts)});
}
Result<LeaseRevokeResult> Client::lease_revoke(int64_t id) { return call(LeaseRevokeRequest{id}); }
Result<LeaseKeepAliveResult> Client::lease_keepalive_once(int64_t id) {
  return call(LeaseKeepAliveRequest{id});
}
Result<LeaseTtlResult> Client::lease_ttl(int64_t id, bool keys) {
  return call(LeaseTtlRequest{id, keys});
}
Result<LeaseListResult> Client::lease_list() { return call(LeaseListRequest{}); }
Result<MemberListResult> Client::member_list() { return call(MemberListRequest{}); }
Result<MemberListResult> Client::member_add(std::string name, std::vector<std::string> peer_urls,
                                            bool learner) {
  MemberAddRequest r;
  r.name = std::move(name);
  r.peer_urls = std::move(peer_urls);
  r.is_learner = learner;
  return call(std::move(r));
}
Result<MemberListResult> Client::member_remove(uint64_t id) { return call(MemberRemoveRequest{id}); }
Result<MemberListResult> Client::member_promote(uint64_t id) {
  return call(MemberPromoteRequest{id});
}
Result<MoveLeaderResult> Client::move_leader(uint64_t target_id) {
  return call(MoveLeaderRequest{target_id});
}
Result<StatusResult> Client::status() { return call(StatusRequest{}); }

template <typename Req>
Result<typename Req::Response> Client::call_pinned(const std::string& endpoint, Req request, CallOptions options) {
  if (impl_->on_io_thread()) {
    return make_error(ErrorCode::kBadRequest, "blocking call from a client callback");
  }
  Result<std::string> target = normalise_endpoint(endpoint);
  if (!target.ok()) return target.error();
  const auto timeout = options.timeout.count() > 0 ? options.timeout : impl_->options.request_timeout;
  const auto deadline = Clock::now() + timeout;
  if (Status s = impl_->acquire_slot(deadline); !s.ok()) return s.error();
  auto promise = std::make_shared<std::promise<Result<ResponseBody>>>();
  auto future = promise->get_future();
  auto p = std::make_unique<Impl::Pending>();
  p->body = std::move(request);
  p->cls = RequestClass::kRead;
  p->pinned = target.value();
  p->deadline = deadline;
  p->done = [promise](Result<ResponseBody> r) { promise->set_value(std::move(r)); };
  impl_->enqueue(std::move(p));
  Result<ResponseBody> r = future.get();
  if (!r.ok()) return r.error();
  return std::get<typename Req::Response>(std::move(r).value());
}

Result<StatusResult> Client::status_of(const std::string& endpoint, CallOptions options) {
  return call_pinned(endpoint, StatusRequest{}, options);
}

Result<DefragmentResult> Client::defragment_of(const std::string& endpoint, CallOptions options) {
  return call_pinned(endpoint, DefragmentRequest{}, options);
}

Result<HashKvResult> Client::hash_kv_of(const std::string& endpoint, int64_t revision, CallOptions options) {
  HashKvRequest r;
  r.revision = revision;
  return call_pinned(endpoint, r, options);
}

Result<int64_t> Client::snapshot_save(const std::string& path, CallOptions options) {
  if (impl_->on_io_thread()) {
    return make_error(ErrorCode::kBadRequest, "blocking call from a client callback");
  }
  const std::string part = path + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kStorage, "cannot create " + part + ": " + std::strerror(errno));
  }
  // Written by the I/O thread, read here after the future is ready.
  struct Sink {
    int fd;
    int64_t written = 0;
    std::optional<Error> error;
    SnapshotDigest digest;  // of the image: the file's trailer (schema/snapshot_file.h)

    void write_all(std::string_view bytes) {
      size_t off = 0;
      while (off < bytes.size() && !error) {
        const size_t n = std::min(kSnapshotWriteBytes, bytes.size() - off);
        const ssize_t w = ::write(fd, bytes.data() + off, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          error = make_error(ErrorCode::kStorage, std::string("write: ") + std::strerror(errno));
          return;
        }
        off += static_cast<size_t>(w);
      }
      written += static_cast<int64_t>(bytes.size());
    }
  };
  auto sink = std::make_shared<Sink>();
  sink->fd = fd;
  const auto timeout = options.timeout.count() > 0 ? options.timeout : impl_->options.request_timeout;
  const auto deadline = Clock::now() + timeout;
  if (Status s = impl_->acquire_slot(deadline); !s.ok()) {
    ::close(fd);
    ::unlink(part.c_str());
    return s.error();
  }
  auto promise = std::make_shared<std::promise<Result<ResponseBody>>>();
  auto future = promise->get_future();
  auto p = std::make_unique<Impl::Pending>();
  p->body = SnapshotRequest{};
  p->cls = RequestClass::kRead;
  p->deadline = deadline;
  p->on_chunk = [sink](const SnapshotChunk& chunk) {
    if (sink->error) return;
    sink->digest.update(chunk.blob);
    sink->write_all(chunk.blob);
  };
  p->done = [promise](Result<ResponseBody> r) { promise->set_value(std::move(r)); };
  impl_->enqueue(std::move(p));
  Result<ResponseBody> r = future.get();
  std::optional<Error> error;
  if (r.ok() && !sink->error) sink->write_all(sink->digest.trailer());
  if (!r.ok()) {
    error = r.error();
  } else if (sink->error) {
    error = sink->error;
  } else if (::fsync(fd) != 0) {
    error = make_error(ErrorCode::kStorage, std::string("fsync: ") + std::strerror(errno));
  }
  ::close(fd);
  if (!error && ::rename(part.c_str(), path.c_str()) != 0) {
    error = make_error(ErrorCode::kStorage, "rename to " + path + ": " + std::strerror(errno));
  }
  if (error) {
    ::unlink(part.c_str());
    return *error;
  }
  return sink->written;
}

WatchHandle Client::watch(WatchOptions options, WatchCallback callback) {
  const uint64_t id = impl_->next_watch_id.fetch_add(1);
  Impl* impl = impl_.get();
  impl_->post([impl, id, options = std::move(options), callback = std::move(callback)]() mutable {
    Impl::WatchEntry& w = impl->watches[id];
    w.id = id;
    w.cursor = WatchCursor(options.start_revision);
    w.spec = std::move(options);
    w.callback = std::move(callback);
    impl->start_watch_create(w, milliseconds(0));
  });
  return WatchHandle(std::weak_ptr<void>(impl_), id);
}

std::string Client::current_endpoint() const {
  std::lock_guard lock(impl_->mu);
  return impl_->current_public;
}

}  // namespace corral::client
