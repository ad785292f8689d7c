// The public calls of Client (client.h); what happens to a request after
// submit() is in the client_*.cc files (client_impl.h).
#include "client/client_impl.h"

#include <future>

#include "coordinator/net/socket_options.h"

namespace corral::client {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

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
    Result<std::string> n = Impl::normalise_endpoint(e);
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
  if (curve && options.wire == net::ClientWire::kTcp) {
    return make_error(ErrorCode::kBadRequest, "CURVE needs the zmq client wire (wire tcp has none)");
  }
  impl->wire = net::resolve_client_wire(options.wire, curve);
  // The TCP wire needs no ZeroMQ context (and its I/O thread).
  if (impl->wire == net::ClientWire::kZmq) {
    impl->context = options.context ? options.context : std::make_shared<zmq::context_t>(1);
  }
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
  Result<std::string> target = Impl::normalise_endpoint(endpoint);
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

std::string Client::current_endpoint() const {
  std::lock_guard lock(impl_->mu);
  return impl_->current_public;
}

}  // namespace corral::client
