// Watches: created on a member, re-created (from where they were) when
// their connection goes or the member cancels them, and WatchHandle.
#include "client/client_impl.h"

#include <future>

namespace corral::client {

void Client::Impl::handle(const std::string& key, WatchEventsMessage& m) {
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

void Client::Impl::handle(const std::string& key, WatchControlMessage& m) {
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

void Client::Impl::call_watch(WatchEntry& w, const WatchUpdate& u) {
  try {
    w.callback(u);
  } catch (...) {
    // A throwing callback must not take the I/O thread down with it.
  }
}

void Client::Impl::end_watch(uint64_t local, const Error& error) {
  auto it = watches.find(local);
  if (it == watches.end()) return;
  WatchUpdate u;
  u.error = error;
  call_watch(it->second, u);
  watches.erase(local);
}

void Client::Impl::start_watch_create(WatchEntry& w, milliseconds delay) {
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

void Client::Impl::watch_created(uint64_t local, Pending& p, Result<ResponseBody> r) {
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

void Client::Impl::send_watch_cancel(const std::string& conn_key, int64_t server_id) {
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

void Client::Impl::cancel_watch(uint64_t local) {
  auto it = watches.find(local);
  if (it == watches.end()) return;
  WatchEntry& w = it->second;
  if (w.server_id >= 0) {
    watch_by_server.erase({w.conn_key, w.server_id});
    send_watch_cancel(w.conn_key, w.server_id);
  }
  watches.erase(it);
}

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

WatchHandle Client::watch(WatchOptions options, WatchCallback callback) {
  const uint64_t id = impl_->next_watch_id.fetch_add(1);
  Impl* impl = impl_.get();
  impl_->post([impl, id, options = std::move(options), callback = std::move(callback)]() mutable {
    Impl::WatchEntry& w = impl->watches[id];
    w.id = id;
    w.cursor = WatchCursor(options.start_revision);
    w.spec = std::move(options);
    w.callback = std::move(callback);
    impl->start_watch_create(w, std::chrono::milliseconds(0));
  });
  return WatchHandle(std::weak_ptr<void>(impl_), id);
}

}  // namespace corral::client
