#include "client/concurrency/predecessors.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "client/txn.h"

namespace corral::client::concurrency {

namespace {

Result<RangeResult> queue(Client& client, const std::string& prefix) {
  RangeRequest r;
  r.key = prefix;
  r.range_end = prefix_range_end(prefix);
  r.limit = kMaxQueueKeys;
  return client.call(std::move(r));
}

Error interrupted() { return make_error(ErrorCode::kClosed, "interrupted"); }

}  // namespace

Result<std::optional<KeyValue>> first_in_queue(Client& client, const std::string& prefix) {
  auto all = queue(client, prefix);
  if (!all.ok()) return all.error();
  std::optional<KeyValue> first;
  for (const KeyValue& kv : all->kvs) {
    if (!first || kv.create_revision < first->create_revision) first = kv;
  }
  return first;
}

Status wait_for_delete(Client& client, const std::string& key, int64_t from_revision, const StopCheck& should_stop) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool deleted = false;
    std::optional<Error> error;
  };
  auto state = std::make_shared<State>();
  WatchOptions w;
  w.key = key;
  w.start_revision = from_revision;
  w.no_put = true;
  WatchHandle handle = client.watch(w, [state](const WatchUpdate& u) {
    std::lock_guard lock(state->mu);
    if (u.error) state->error = u.error;
    for (const WatchEvent& e : u.events) {
      if (e.type == WatchEvent::Type::kDelete) state->deleted = true;
    }
    state->cv.notify_all();
  });
  std::unique_lock lock(state->mu);
  while (!state->deleted && !state->error) {
    if (should_stop && should_stop()) return interrupted();
    state->cv.wait_for(lock, std::chrono::milliseconds(kStopPollMs));
  }
  lock.unlock();
  handle.cancel();
  if (state->error && !state->deleted) return *state->error;
  return Status();
}

Status wait_for_predecessors(Client& client, const std::string& prefix, int64_t my_revision,
                             const StopCheck& should_stop) {
  while (true) {
    if (should_stop && should_stop()) return interrupted();
    auto all = queue(client, prefix);
    if (!all.ok()) return all.error();
    std::optional<KeyValue> before;  // the last key created before mine
    for (const KeyValue& kv : all->kvs) {
      if (kv.create_revision < my_revision && (!before || kv.create_revision > before->create_revision)) before = kv;
    }
    if (!before) return Status();
    Status s = wait_for_delete(client, before->key, all->header.revision + 1, should_stop);
    if (!s.ok()) return s;
  }
}

Result<int64_t> join_queue(Client& client, const std::string& prefix, const std::string& key, int64_t lease,
                           const std::string& value, bool replace_value, const StopCheck& should_stop) {
  TxnRequest t = Txn()
                     .when(compare_create_revision(key, Compare::Op::kEqual, 0))
                     .then(op_put(key, value, lease))
                     .otherwise(op_get(key))
                     .build();
  auto r = client.txn(std::move(t));
  if (!r.ok()) return r.error();
  int64_t revision = r->header.revision;
  if (!r->succeeded) {
    const auto* got = r->responses.empty() ? nullptr : std::get_if<RangeResult>(&r->responses[0].result);
    if (got == nullptr || got->kvs.empty()) return make_error(ErrorCode::kInternal, "queue key vanished: " + key);
    revision = got->kvs[0].create_revision;
    if (replace_value) {
      auto put = client.put(key, value, lease);
      if (!put.ok()) return put.error();
    }
  }
  Status waited = wait_for_predecessors(client, prefix, revision, should_stop);
  if (!waited.ok()) {
    (void)client.del(key);
    return waited.error();
  }
  return revision;
}

}  // namespace corral::client::concurrency
