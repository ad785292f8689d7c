// etcd's concurrency.Election: leader election on a key prefix, the same
// queue as Mutex (predecessors.h). A candidate's key holds its proposal;
// the leader is the candidate whose key has the lowest create revision.
// Observers watch the prefix and see each new leader's key and value.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "client/concurrency/predecessors.h"
#include "client/concurrency/session.h"

namespace corral::client::concurrency {

class Election {
 public:
  Election(Session& session, std::string name);

  // Puts the proposal and blocks until this candidate leads (or should_stop:
  // kClosed, the candidacy is withdrawn).
  Status campaign(const std::string& proposal, const StopCheck& should_stop = {});
  // Gives up the leadership (or the candidacy): deletes the key.
  Status resign();
  const std::string& key() const { return key_; }
  int64_t revision() const { return revision_; }

 private:
  Session& session_;
  std::string prefix_;
  std::string key_;
  int64_t revision_ = 0;
};

// The current leader of election `name`, if any.
Result<std::optional<KeyValue>> election_leader(Client& client, const std::string& name);

// Calls `on_leader` with each new leader of election `name` (the first one
// right away if there is one), until should_stop (then ok) or an error.
Status observe_election(Client& client, const std::string& name, const std::function<void(const KeyValue&)>& on_leader,
                        const StopCheck& should_stop);

}  // namespace corral::client::concurrency
