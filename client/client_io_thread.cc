// The I/O thread's loop and what user threads may touch (client_impl.h).
#include "client/client_impl.h"

#include <algorithm>

namespace corral::client {

namespace {

using std::chrono::milliseconds;

// The I/O thread sleeps until the next deadline it tracks (see
// next_timer_due), but never longer than this.
constexpr milliseconds kIdlePollMs{100};

}  // namespace

void Client::Impl::enqueue(PendingPtr p) {
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
bool Client::Impl::post(std::function<void()> command) {
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
Status Client::Impl::acquire_slot(Clock::time_point deadline) {
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

void Client::Impl::release_slot() {
  {
    std::lock_guard lock(mu);
    --outstanding;
  }
  slots_cv.notify_one();
}

void Client::Impl::run() {
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
    holding_writes = wire == net::ClientWire::kTcp && new_pending.size() > 1;
    for (auto& p : new_pending) dispatch(std::move(p));
    release_held_writes();
    // The TCP connections' due work (and what a connection made just now
    // already knows: refused at once); when they next have some.
    const Clock::time_point tcp_due =
        wire == net::ClientWire::kTcp ? service_tcp_timers(Clock::now()) : Clock::time_point::max();

    milliseconds timeout = kIdlePollMs;
    const auto before = Clock::now();
    auto until = [&](Clock::time_point t) {
      // Rounded up, so that the wait never ends just before `t`.
      return std::chrono::ceil<milliseconds>(t - before);
    };
    if (next_timer_due != Clock::time_point::max()) timeout = std::min(timeout, until(next_timer_due));
    if (!delayed.empty()) timeout = std::min(timeout, until(delayed.begin()->first));
    if (tcp_due != Clock::time_point::max()) timeout = std::min(timeout, until(tcp_due));
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
      if (conn->tcp) {
        if (service_tcp(conn, Clock::now())) release_held(conn->key, conn);
      } else if (it->second.second) {
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

void Client::Impl::release_held_writes() {
  holding_writes = false;
  for (const std::string& key : held_writes) {
    auto it = conns.find(key);
    if (it != conns.end() && it->second->tcp) it->second->tcp->release_writes();
  }
  held_writes.clear();
}

void Client::Impl::shutdown() {
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

void Client::Impl::complete(PendingPtr p, Result<ResponseBody> result) {
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

}  // namespace corral::client
