#include "client/concurrency/election.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "client/concurrency/mutex.h"
#include "client/txn.h"

namespace corral::client::concurrency {

Election::Election(Session& session, std::string name)
    : session_(session), prefix_(queue_prefix(std::move(name))), key_(session_key(prefix_, session.lease())) {}

Status Election::campaign(const std::string& proposal, const StopCheck& should_stop) {
  // Already a candidate: the proposal is updated in place.
  auto place = join_queue(session_.client(), prefix_, key_, session_.lease(), proposal, true, should_stop);
  if (!place.ok()) return place.error();
  revision_ = *place;
  return Status();
}

Status Election::resign() {
  auto r = session_.client().del(key_);
  if (!r.ok()) return r.error();
  return Status();
}

Result<std::optional<KeyValue>> election_leader(Client& client, const std::string& name) {
  return first_in_queue(client, queue_prefix(name));
}

Status observe_election(Client& client, const std::string& name, const std::function<void(const KeyValue&)>& on_leader,
                        const StopCheck& should_stop) {
  const std::string prefix = queue_prefix(name);
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool changed = true;
    std::optional<Error> error;
  };
  auto state = std::make_shared<State>();
  // Any change under the prefix after this read may change the leader: look again then.
  auto start = client.get_prefix(prefix);
  if (!start.ok()) return start.error();
  WatchOptions w;
  w.key = prefix;
  w.range_end = prefix_range_end(prefix);
  w.start_revision = start->header.revision + 1;
  WatchHandle handle = client.watch(w, [state](const WatchUpdate& u) {
    std::lock_guard lock(state->mu);
    if (u.error) state->error = u.error;
    if (!u.events.empty()) state->changed = true;
    state->cv.notify_all();
  });
  std::optional<KeyValue> shown;
  while (true) {
    {
      std::unique_lock lock(state->mu);
      state->cv.wait_for(lock, std::chrono::milliseconds(kStopPollMs), [&] { return state->changed || state->error; });
      if (state->error) return *state->error;
      if (!state->changed) {
        if (should_stop && should_stop()) return Status();
        continue;
      }
      state->changed = false;
    }
    if (should_stop && should_stop()) return Status();
    auto now = first_in_queue(client, prefix);
    if (!now.ok()) return now.error();
    if (*now && (!shown || shown->key != (*now)->key || shown->value != (*now)->value)) {
      shown = *now;
      on_leader(*shown);
    }
  }
}

}  // namespace corral::client::concurrency
