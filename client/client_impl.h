// Client::Impl: the client's I/O thread and its state, shared by the
// client_*.cc files, one concern each:
//   client_io_thread.cc    the loop, the inbox, in-flight slots, completion
//   client_connections.cc  connections (a ZeroMQ DEALER and its monitor, or
//                          a TCP connection), replies, probes, endpoint
//                          rotation and trust
//   client_dispatch.cc     sending, answers, retries and deadlines
//   client_session.cc      the session token (Options::user)
//   client_watches.cc      watches and WatchHandle
//   client.cc              the public calls; client_snapshot.cc snapshot_save
//
// Threading, all of it: one I/O thread per Client runs run(). User threads
// only push into `inbox` or `commands` (under `mu`), take and give back
// in-flight slots (`outstanding`, under `mu`) and wake the poller; everything
// below "I/O thread only" is touched by the I/O thread alone. Callbacks run
// on the I/O thread, never while it walks one of its maps: anything a
// callback asks for goes through the inbox too.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"
#include "client/codec.h"
#include "client/retry.h"
#include "client/watch_cursor.h"
#include "coordinator/net/poller.h"
#include "coordinator/net/tcp_client_connection.h"

namespace corral::client {

struct Client::Impl {
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;


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
    // The ZeroMQ wire: a DEALER and its monitor.
    zmq::socket_t dealer;
    zmq::socket_t monitor;
    // The TCP wire: the connection tells its own events.
    std::unique_ptr<net::TcpClientConnection> tcp;
    size_t slot = 0;
    size_t monitor_slot = 0;  // ZeroMQ wire only
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
  net::ClientWire wire = net::ClientWire::kTcp;  // resolved
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
  // The TCP wire: while the loop hands its inbox to the connections, their
  // writes are held and leave together (one write per connection).
  bool holding_writes = false;
  std::vector<std::string> held_writes;  // keys of connections holding writes
  void release_held_writes();

  // The endpoint in ZeroMQ form, or kBadRequest.
  static Result<std::string> normalise_endpoint(const std::string& text);

  // Any thread.
  bool on_io_thread() const { return std::this_thread::get_id() == thread_id; }
  void wake() { poller->wake(); }

  // --- client_io_thread.cc: user side (any thread), then the loop (I/O thread)
  void enqueue(PendingPtr p);
  // False if the client is stopping (the command will never run).
  bool post(std::function<void()> command);
  // Takes a slot for a counted request: blocks a user thread up to
  // `deadline`, never the I/O thread.
  Status acquire_slot(Clock::time_point deadline);
  void release_slot();
  void run();
  void shutdown();
  void complete(PendingPtr p, Result<ResponseBody> result);

  // --- client_connections.cc (I/O thread)
  void set_current(const std::string& endpoint);
  // Moves requests on to the next endpoint, once per failure of `failed`
  // (many requests failing on one endpoint rotate once, not many times).
  // Suspect endpoints are skipped while another one is not.
  void rotate_from(const std::string& failed);
  bool is_suspect(const std::string& endpoint, Clock::time_point now) const;
  bool trusted(const Conn& conn, Clock::time_point now) const;
  Conn* get_conn(const std::string& key);
  // Whether what was sent on `conn` since the attempt began may have left. A
  // write handed to ZeroMQ may have left whatever the monitor has told us so
  // far: its CONNECTED event can still be queued, unread, while the bytes go.
  static bool may_have_left(const Pending& p, const Conn* conn);
  // Closes a connection: its requests fail over, its watches are re-created.
  void close_conn(const std::string& key, bool lost);
  void read_monitor(Conn* conn);
  // The TCP wire: does the connection's I/O and timed work, then what it
  // tells (up, closed, refused) and the replies it read. True if anything
  // arrived. May close the connection (check conns before using it again).
  bool service_tcp(Conn* conn, Clock::time_point now);
  // The TCP connections' timed work (heartbeats, slow connects) that is due;
  // the earliest next due time.
  Clock::time_point service_tcp_timers(Clock::time_point now);
  Conn* make_tcp_conn(std::unique_ptr<Conn> conn);
  // True if anything arrived (the member is alive: see release_held).
  bool read_replies(Conn* conn);
  // `conn` (at `key`) has just answered: it is no longer suspect, and the
  // writes held for it go out, in the order they came.
  void release_held(const std::string& key, Conn* conn);
  void hold(Conn& conn, PendingPtr p);
  void ensure_probe(Conn& conn);
  // Any answer, even an error, shows the member alive (read_replies has
  // released what it held); no answer within probe_timeout makes it suspect.
  void probe_ended(const Pending& probe);
  // The member at `conn` does not answer: what it holds never left and goes
  // elsewhere, so do the repeatable requests waiting there. Writes it was
  // sent stay: they may yet be answered, else end as outcome unknown.
  void give_up_on(Conn& conn, Clock::time_point now);

  // --- client_dispatch.cc (I/O thread)
  void handle(const std::string& key, ResponseMessage& m);
  void dispatch(PendingPtr p);
  // Hands `p` to the connection's socket: from here it may have left.
  void send_on(Conn& connection, PendingPtr p);
  // The next moment `p` needs the timer: its deadline, or its read attempt
  // timeout (reads only: writes wait for their deadline).
  Clock::time_point timer_due(const Pending& p) const;
  void fail_attempt(PendingPtr p, Failure failure, const Error& error);
  // The deadline passed. `was_in_flight`: it was sent and not answered (as
  // opposed to waiting for a retry after a definite failure).
  void expire(PendingPtr p, bool was_in_flight);
  void check_timers(Clock::time_point now);
  void note_timers(const Pending& p) { next_timer_due = std::min(next_timer_due, timer_due(p)); }

  // --- client_session.cc (I/O thread)
  static bool is_login(const Pending& p);
  const std::string& token_for(const Pending& p) const;
  void start_login();
  void login_done(Result<ResponseBody> r);
  bool uses_session(const Pending& p) const { return !options.user.empty() && !p.token && !is_login(p); }

  // --- client_watches.cc (I/O thread)
  void handle(const std::string& key, WatchEventsMessage& m);
  void handle(const std::string& key, WatchControlMessage& m);
  void call_watch(WatchEntry& w, const WatchUpdate& u);
  void end_watch(uint64_t local, const Error& error);
  void start_watch_create(WatchEntry& w, milliseconds delay);
  void watch_created(uint64_t local, Pending& p, Result<ResponseBody> r);
  void send_watch_cancel(const std::string& conn_key, int64_t server_id);
  void cancel_watch(uint64_t local);
};

}  // namespace corral::client
