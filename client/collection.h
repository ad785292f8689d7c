// The agent's side of log collection (schema/records.md), on a Client:
// registration with a kept-alive lease, the collector's assignments, and
// fenced checkpoints and releases.
//
//   Registration reg(client, spec, on_event);   // agent record + streams, one lease
//   reg.start();                                // registered, kept alive, re-registered if lost
//   AssignmentWatch w(client, "collector-3", on_assignments);
//   auto cp = load_checkpoint(client, task);
//   commit_checkpoint(client, "collector-3", task, epoch, cp);   // kFenced once the task moved
//   release(client, "collector-3", task, epoch, final_cp);       // a revoking task, handed on
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/client.h"
#include "client/lease_keeper.h"
#include "schema/log_records.h"

namespace corral::client::collection {

namespace records = corral::schema::records;
using records::TaskName;

// The registration request's key limit (a lease grant with keys): the agent
// record and at most this many streams.
inline constexpr size_t kMaxStreamsPerAgent = 127;
// After a failed (re-)registration, try again this soon.
inline constexpr int64_t kReregisterRetryMs = 500;

struct RegistrationSpec {
  std::string agent_id;
  records::AgentRecord agent;
  std::vector<std::pair<TaskName, records::StreamRecord>> streams;
  int64_t ttl_seconds = 10;
};

// kBadRequest naming what is wrong (ids, records, too many streams).
Status check_spec(const RegistrationSpec& spec);

// Registers an agent and its streams in one request with one lease, keeps
// the lease alive, and registers again (a new lease) when it is lost. Owns
// one thread that re-registers; keepalives run on a LeaseKeeper.
class Registration {
 public:
  // `on_event` gets one line for each registration, loss and failure (on
  // the registration's, the keeper's or the client's thread).
  using EventCallback = std::function<void(const std::string& line)>;
  Registration(Client& client, RegistrationSpec spec, EventCallback on_event);
  ~Registration();  // stop(false)
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // The first registration, blocking; then keeps it alive in the background.
  Status start();
  // Stops keeping it alive; with `deregister`, revokes the lease (the agent's
  // keys go at once, in one revision) instead of letting it expire.
  void stop(bool deregister);
  int64_t lease() const { return lease_.load(); }
  int64_t registrations() const { return registrations_.load(); }

 private:
  Status register_once();
  void run();

  Client& client_;
  RegistrationSpec spec_;
  EventCallback on_event_;
  std::atomic<int64_t> lease_{0};
  std::atomic<int64_t> registrations_{0};
  std::unique_ptr<LeaseKeeper> keeper_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool lost_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// One task held by a collector: its assignment and its epoch.
struct Assignment {
  TaskName task;
  records::AssignmentRecord record;
  int64_t epoch = 0;         // the key's create_revision
  int64_t mod_revision = 0;  // the revision of its current value
};

// The collector's assignments (/corral/assign/<collector>/), kept up to date
// by a watch that resumes after reconnects with no gap. `on_change` gets the
// whole current set (by task id) after the initial read and after every
// revision that changed it, on the client's I/O thread; keep it short.
class AssignmentWatch {
 public:
  using ChangeCallback = std::function<void(const std::map<std::string, Assignment>& now, int64_t revision)>;
  using ErrorCallback = std::function<void(const Error& why)>;
  AssignmentWatch(Client& client, std::string collector_id, ChangeCallback on_change, ErrorCallback on_error);
  // Reads the current assignments, then watches from the next revision.
  // Called again after the watch ended (on_error), it starts anew.
  Status start();
  void stop();

 private:
  void on_update(const WatchUpdate& u);
  Client& client_;
  std::string collector_id_;
  ChangeCallback on_change_;
  ErrorCallback on_error_;
  std::mutex mu_;
  std::map<std::string, Assignment> current_;
  WatchHandle handle_;
};

// The fenced txn that commits `checkpoint` (and, with `release`, deletes the
// assignment key), and the Status its answer means, for callers that keep
// many commits in flight (call_future) instead of one blocking call each.
TxnRequest fenced_checkpoint_txn(const std::string& collector, const TaskName& task, int64_t epoch,
                                 const std::optional<records::CheckpointRecord>& checkpoint, bool release);
Status fenced_outcome(const std::string& collector, const TaskName& task, int64_t epoch,
                      const Result<TxnResult>& answer);

// The stream's checkpoint, if any.
Result<std::optional<records::CheckpointRecord>> load_checkpoint(Client& client, const TaskName& task);
// Stores `checkpoint` if `collector` still holds `task` at `epoch`;
// kFenced otherwise (nothing is written).
Status commit_checkpoint(Client& client, const std::string& collector, const TaskName& task, int64_t epoch,
                         const records::CheckpointRecord& checkpoint);
// The final checkpoint and the release of the task (its assignment key
// deleted) in one fenced txn; kFenced if the task had already moved.
Status release(Client& client, const std::string& collector, const TaskName& task, int64_t epoch,
               const std::optional<records::CheckpointRecord>& final_checkpoint);

}  // namespace corral::client::collection
