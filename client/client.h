// The corral client: one connection at a time to a member of the cluster
// (plain TCP, or ZeroMQ with CURVE: Options::wire), every request pipelined
// on it with a request id, answers matched by id. A background I/O thread
// owns the sockets; calls are thread-safe.
//
// Forms of every call (Req is a request value from types.h):
//   Result<Req::Response> call(Req, CallOptions)          blocks until done or deadline
//   void call_async(Req, CallOptions, callback)           callback on the I/O thread
//   std::future<Result<Req::Response>> call_future(Req, CallOptions)
// plus short names for the common ones (put, get, range, del, txn, ...).
//
// Leader discovery and retries follow retry.h: a notLeader answer moves the
// client to leaderHint (else to the next endpoint); a broken connection or an
// endpoint that does not come up within connect_timeout moves it to the next
// endpoint; a write whose outcome is unknown fails with kTimeout instead of
// being sent twice.
//
// Trust, as etcd's client keepalive gives it: a write is handed to a
// connection only if that member answered something within trust_window.
// Otherwise the write is held here (so it surely has not left) and a cheap
// probe (a serializable count of one key) goes first; an answer releases the
// held writes, no answer within probe_timeout makes the endpoint suspect
// (skipped by the rotation for a while) and the held writes, and the reads
// waiting there, go to the next endpoint. A hung member (SIGSTOP) therefore
// costs a write one probe_timeout, never its outcome.
//
// Bounds: at most Options::max_in_flight requests are outstanding (queued,
// in flight or waiting to retry). Past it a call from a user thread blocks
// until a slot frees or its deadline passes (then kBackpressure); a call from
// the I/O thread (inside a callback) fails at once with kBackpressure, since
// blocking there would stop the thread that frees slots.
//
// Callbacks (async calls, watches, snapshot chunks) run on the I/O thread:
// keep them short and never make a blocking call from one (it fails with
// kBadRequest rather than deadlock). The one exception: a call that fails
// before it is queued (kBackpressure, kClosed, a txn too deep to encode, a
// request past Options::max_request_bytes)
// calls its callback at once on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "client/error.h"
#include "client/types.h"
#include "coordinator/net/client_wire.h"

namespace zmq {
class context_t;
}

namespace corral::client {

inline constexpr int64_t kDefaultRequestTimeoutMs = 5000;
inline constexpr int64_t kDefaultConnectTimeoutMs = 1000;
inline constexpr int64_t kDefaultReadAttemptTimeoutMs = 2000;
// A member that answered within this gets writes without a probe first.
inline constexpr int64_t kDefaultTrustWindowMs = 1000;
// How long a probe waits for its answer before the endpoint is suspect:
// well above a loaded member's reply time on loopback, well below the
// default request timeout (a hung first endpoint must leave room to retry).
inline constexpr int64_t kDefaultProbeTimeoutMs = 500;
inline constexpr size_t kDefaultMaxInFlight = 10000;
inline constexpr size_t kDefaultMaxRequestBytes = 2 * 1024 * 1024;  // corrald's default
// Enough that request_timeout, not the count, ends the retries of a request
// through an election (a refused endpoint costs an attempt but no wait).
inline constexpr int kDefaultMaxAttempts = 64;
// A watch canceled by a member for another reason than compaction (slow
// watcher, member stopping) is re-created from where it stood, at most this
// many times in a row without an event in between; then the user gets the error.
inline constexpr int kMaxWatchRecreatesWithoutProgress = 8;

struct Options {
  std::vector<std::string> endpoints;  // tcp://IP:PORT or IP:PORT, at least one
  std::chrono::milliseconds request_timeout{kDefaultRequestTimeoutMs};
  // An endpoint whose TCP connection is not up within this is given up for
  // the next one (what was queued on it never left: retried safely).
  std::chrono::milliseconds connect_timeout{kDefaultConnectTimeoutMs};
  // A read with no answer within this on a live connection is retried on the
  // next endpoint (a member cut off from its leader may never answer).
  std::chrono::milliseconds read_attempt_timeout{kDefaultReadAttemptTimeoutMs};
  std::chrono::milliseconds trust_window{kDefaultTrustWindowMs};
  std::chrono::milliseconds probe_timeout{kDefaultProbeTimeoutMs};
  size_t max_in_flight = kDefaultMaxInFlight;
  int max_attempts = kDefaultMaxAttempts;
  // A request that encodes to more bytes fails with kTooLarge before it is
  // sent: the member's --max-request-bytes (default the same) would refuse
  // it, and past the wire's own bound it would drop the connection instead.
  size_t max_request_bytes = kDefaultMaxRequestBytes;
  // The wire to the members (net/client_wire.h): the one they were started
  // with (corrald --client-wire). kAuto: ZeroMQ when CURVE keys are given,
  // else plain TCP (the members' default too).
  net::ClientWire wire = net::ClientWire::kAuto;
  // Share one ZeroMQ context between clients (e.g. a bench with many
  // connections); null: the client makes its own (on the ZeroMQ wire only).
  std::shared_ptr<zmq::context_t> context;
  // CURVE, for members started with --curve-key-file: this client's key
  // pair (Z85; client/curve_options.h loads it from a key file) and the
  // members' public keys, one per endpoint in the same order or one for
  // all. Empty: plain ZMTP.
  std::string curve_public_key;
  std::string curve_secret_key;
  std::vector<std::string> curve_server_keys;
  // With a user, the client authenticates before its first request and
  // sends the token with every request; a request refused as
  // unauthenticated (the token expired, the password changed) makes it
  // authenticate again and resend, once. Empty: no token (anonymous, or the
  // transport's identity).
  std::string user;
  std::string password;
};

struct CallOptions {
  std::chrono::milliseconds timeout{0};  // 0: Options::request_timeout
  // Run this call with this token instead of the client's own (a gateway
  // calling for its users); "" sends none. No re-authentication then.
  std::optional<std::string> token;
};

// What a watch callback receives: events, a progress mark, or the end.
struct WatchUpdate {
  std::vector<WatchEvent> events;
  int64_t revision = 0;   // the member's revision in the message's header
  bool progress = false;  // a progress notification (no events)
  bool created = false;   // the member confirmed the watch (again after each re-creation)
  std::optional<Error> error;  // set: the watch has ended (compacted: see compact_revision)
};
using WatchCallback = std::function<void(const WatchUpdate&)>;

struct WatchOptions {
  std::string key;
  std::string range_end;        // empty: the single key; prefix_range_end(p) for a prefix
  int64_t start_revision = 0;   // 0: from the next revision
  bool prev_kv = false;
  bool progress_notify = false;
  bool no_put = false;
  bool no_delete = false;
  std::optional<std::string> token;  // as CallOptions::token
};

class Client;

// Cancels its watch when cancel() is called or it is destroyed.
class WatchHandle {
 public:
  WatchHandle() = default;
  WatchHandle(WatchHandle&&) noexcept;
  WatchHandle& operator=(WatchHandle&&) noexcept;
  ~WatchHandle();
  void cancel();

 private:
  friend class Client;
  WatchHandle(std::weak_ptr<void> state, uint64_t id) : state_(std::move(state)), id_(id) {}
  std::weak_ptr<void> state_;
  uint64_t id_ = 0;
};

class Client {
 public:
  // kBadRequest if no endpoint or one that does not parse. Does not wait for
  // a connection: the first request does.
  static Result<std::unique_ptr<Client>> connect(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  template <class Req>
  using ResultOf = Result<typename Req::Response>;
  template <class Req>
  using CallbackOf = std::function<void(ResultOf<Req>)>;

  template <class Req>
  ResultOf<Req> call(Req request, CallOptions options = {}) {
    using R = typename Req::Response;
    Result<ResponseBody> r = call_blocking(RequestBody(std::move(request)), options);
    if (!r.ok()) return r.error();
    return std::get<R>(std::move(r).value());
  }

  template <class Req>
  void call_async(Req request, CallOptions options, CallbackOf<Req> callback) {
    using R = typename Req::Response;
    submit(RequestBody(std::move(request)), options,
           [cb = std::move(callback)](Result<ResponseBody> r) {
             if (!r.ok()) {
               cb(r.error());
             } else {
               cb(std::get<R>(std::move(r).value()));
             }
           });
  }

  template <class Req>
  std::future<ResultOf<Req>> call_future(Req request, CallOptions options = {}) {
    auto promise = std::make_shared<std::promise<ResultOf<Req>>>();
    std::future<ResultOf<Req>> future = promise->get_future();
    call_async<Req>(std::move(request), options,
                    [promise](ResultOf<Req> r) { promise->set_value(std::move(r)); });
    return future;
  }

  // --- short names (blocking) ---
  Result<PutResult> put(std::string key, std::string value, int64_t lease = 0);
  Result<RangeResult> get(std::string key, bool serializable = false);
  Result<RangeResult> get_prefix(std::string prefix, bool serializable = false);
  Result<RangeResult> range(RangeRequest request) { return call(std::move(request)); }
  Result<DeleteResult> del(std::string key, std::string range_end = {});
  Result<TxnResult> txn(TxnRequest request) { return call(std::move(request)); }
  Result<ListResult> list(std::string dir, int64_t revision = 0);
  Result<CompactResult> compact(int64_t revision);
  Result<LeaseGrantResult> lease_grant(int64_t ttl_seconds, int64_t id = 0);
  // Grants a lease and puts `puts` with it in the same revision, all or
  // nothing (an agent's registration in one round trip).
  Result<LeaseGrantResult> lease_grant_with_keys(int64_t ttl_seconds, std::vector<LeaseKeyPut> puts);
  // Many grants, each with its keys, in one request and one raft entry: one
  // outcome per grant, in order (types.h). Against a member that does not
  // know batches (kUnknownRequest) it sends one grant per lease instead,
  // with the same outcomes. From a user thread only (lease_grant_batch.cc).
  Result<LeaseGrantBatchResult> lease_grant_batch(std::vector<LeaseGrantRequest> grants, CallOptions options = {});
  Result<LeaseRevokeResult> lease_revoke(int64_t id);
  Result<LeaseKeepAliveResult> lease_keepalive_once(int64_t id);
  Result<LeaseTtlResult> lease_ttl(int64_t id, bool keys = false);
  Result<LeaseListResult> lease_list();
  Result<MemberListResult> member_list();
  Result<MemberListResult> member_add(std::string name, std::vector<std::string> peer_urls,
                                      bool learner = false);
  Result<MemberListResult> member_remove(uint64_t id);
  Result<MemberListResult> member_promote(uint64_t id);
  Result<MoveLeaderResult> move_leader(uint64_t target_id);
  Result<StatusResult> status();
  // The status of one given endpoint (not the current one): no retries
  // elsewhere, for `endpoint status`.
  Result<StatusResult> status_of(const std::string& endpoint, CallOptions options = {});
  // Defragments one given endpoint (each member has its own tables); waits
  // for the rewrite, so give it a timeout of minutes for a large key space.
  Result<DefragmentResult> defragment_of(const std::string& endpoint, CallOptions options = {});

  // The HashKV of one given endpoint at `revision` (0: its current one).
  Result<HashKvResult> hash_kv_of(const std::string& endpoint, int64_t revision, CallOptions options = {});
  // The alarms standing (list) or disarms them (see AlarmRequest).
  Result<AlarmResult> alarm(AlarmRequest request, CallOptions options = {}) { return call(std::move(request), options); }

  // Streams the member's database image to `path` (written to path.part,
  // with a SHA-256 trailer (schema/snapshot_file.h), synced, then renamed). Returns the bytes written. No retry once a chunk
  // has arrived (a stream from another member would not be the same image).
  Result<int64_t> snapshot_save(const std::string& path, CallOptions options = {});

  // Events of `options.key` (and range_end) from options.start_revision, to
  // `callback` on the I/O thread, until the handle is dropped or the watch
  // ends with an error (compacted: the callback's error carries the compact
  // revision). Once WatchHandle::cancel() returns on a user thread, no more
  // callbacks run for it (from a callback it takes effect after that callback). Survives reconnects: re-created from the last seen revision
  // + 1, so events are neither lost nor repeated.
  WatchHandle watch(WatchOptions options, WatchCallback callback);

  // --- users, roles, permissions (etcd's auth; blocking) ---
  Result<AuthResult> auth(AuthRequest request, CallOptions options = {}) { return call(std::move(request), options); }
  // A token for name/password (Options::user does this by itself).
  Result<std::string> authenticate(std::string name, std::string password, CallOptions options = {});
  Result<AuthResult> user_add(std::string name, std::string password, bool no_password = false);
  Result<AuthResult> user_delete(std::string name);
  Result<AuthResult> user_get(std::string name);
  Result<AuthResult> user_list();
  Result<AuthResult> user_change_password(std::string name, std::string password);
  Result<AuthResult> user_grant_role(std::string user, std::string role);
  Result<AuthResult> user_revoke_role(std::string user, std::string role);
  Result<AuthResult> role_add(std::string name);
  Result<AuthResult> role_delete(std::string name);
  Result<AuthResult> role_get(std::string name);
  Result<AuthResult> role_list();
  Result<AuthResult> role_grant_permission(std::string role, AuthPermission perm);
  Result<AuthResult> role_revoke_permission(std::string role, std::string key, std::string range_end = {});
  Result<AuthResult> auth_enable();
  Result<AuthResult> auth_disable();
  Result<AuthResult> auth_status();

  // The endpoint requests go to now (the last known leader, if it answered).
  std::string current_endpoint() const;

 private:
  friend class WatchHandle;
  struct Impl;
  explicit Client(std::shared_ptr<Impl> impl);

  Result<ResponseBody> call_blocking(RequestBody body, CallOptions options);
  // One request to one given endpoint: no retries elsewhere.
  template <typename Req>
  Result<typename Req::Response> call_pinned(const std::string& endpoint, Req request, CallOptions options);
  void submit(RequestBody body, CallOptions options, std::function<void(Result<ResponseBody>)> done);

  std::shared_ptr<Impl> impl_;
};

}  // namespace corral::client
