// The waiting shared by Mutex and Election (etcd's waitDeletes): the keys
// under one prefix queue by create revision; a waiter's turn comes when
// every key created before its own is gone. It watches only the last key
// before it (so a release wakes one waiter, not all), then looks again.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "client/client.h"

namespace corral::client::concurrency {

// How often a wait looks at `should_stop` while nothing changes.
inline constexpr int64_t kStopPollMs = 100;
// Keys under one prefix read per look (waiters of one lock or election).
inline constexpr int64_t kMaxQueueKeys = 10000;

// Polled by waits; true: give up (the wait fails with kClosed "interrupted").
using StopCheck = std::function<bool()>;

// The key under `prefix` with the lowest create revision (the holder), if any.
Result<std::optional<KeyValue>> first_in_queue(Client& client, const std::string& prefix);

// Returns once no key under `prefix` has a create revision below `my_revision`.
Status wait_for_predecessors(Client& client, const std::string& prefix, int64_t my_revision,
                             const StopCheck& should_stop);

// Takes a place in the queue under `prefix` with `key` (leased to `lease`)
// and waits for its turn: puts the key unless it exists already (then keeps
// its create revision, and its value becomes `value` if `replace_value`),
// then waits for every key created before it. On a failed wait the key is
// deleted again. Returns the key's create revision (its place).
Result<int64_t> join_queue(Client& client, const std::string& prefix, const std::string& key, int64_t lease,
                           const std::string& value, bool replace_value, const StopCheck& should_stop);

// Waits until `key` is deleted (or `should_stop`): watched from `from_revision`.
Status wait_for_delete(Client& client, const std::string& key, int64_t from_revision, const StopCheck& should_stop);

}  // namespace corral::client::concurrency
