// The collector role of corral-agent: runs the tasks the coordinator assigns
// to this agent (schema/records.md), moving each stream's lines from its
// source agent into the sink, with nothing lost.
//
// One thread (the collector's loop) does everything, in turns:
//   1. takes the latest assignment set from the assignment watch: starts new
//      tasks from their checkpoint, drops tasks that moved away, and winds
//      down tasks marked revoking;
//   2. sends a fetch for every running task without one in flight (one per
//      task, since a read's next position comes from the previous answer;
//      tasks of one source share its connection, many fetches in flight);
//   3. appends each answer's lines to the sink, in order (a slow sink stops
//      the loop: that is the backpressure, and memory stays bounded by the
//      fetches in flight);
//   4. every checkpoint interval: makes each task's sink durable, then
//      commits its checkpoint with a txn fenced on the assignment's epoch,
//      all commits in flight together.
// Order is sacred: the sink is durable before the checkpoint that covers it.
// A collector that crashes duplicates at most what it appended after its
// last checkpoint; a fenced commit stops the task at once.
//
// Handover: a revoking task stops fetching, makes its sink durable and
// releases the task with its final checkpoint in one fenced txn, so its
// successor starts exactly where it stopped (a planned move duplicates
// nothing). stop() does the same for every task before the agent
// deregisters.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "agent/fetch/fetch_client.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/sink/sink.h"
#include "client/collection.h"

namespace corral::agent::collector {

namespace records = corral::schema::records;

// Between two fetches of a task that had nothing new.
inline constexpr int64_t kIdleFetchIntervalMs = 50;
// After a failed fetch (source down, unknown stream), before the next try.
inline constexpr int64_t kFetchRetryMs = 500;
inline constexpr int64_t kFetchTimeoutMs = 5000;
// A loop turn waits at most this long for fetch answers.
inline constexpr int64_t kMaxPollMs = 20;
// How long a sink append may wait (kFull past it: the batch is kept and retried).
inline constexpr int64_t kSinkAppendWaitMs = 200;

struct CollectorOptions {
  std::string collector_id;
  int64_t checkpoint_interval_ms = 1000;
  uint32_t fetch_max_bytes = 1u << 20;
  size_t max_in_flight_fetches = fetch::kDefaultMaxInFlight;  // per source connection
  AgentMetrics* metrics = nullptr;  // counted into when given (outlives the collector)
};

struct TaskStats {
  std::string task;
  int64_t epoch = 0;
  bool revoking = false;
  std::string file;
  uint64_t offset = 0;
  uint64_t lag_bytes = 0;
  int64_t lines = 0;  // delivered to the sink by this collector since it got the task
};

struct CollectorStats {
  int64_t tasks_started = 0;
  int64_t tasks_released = 0;
  int64_t tasks_fenced = 0;
  int64_t lines = 0;
  int64_t bytes = 0;
  int64_t checkpoints = 0;
  int64_t fetch_errors = 0;
  int64_t sink_errors = 0;
  int64_t bytes_lost = 0;  // reported lost by sources (files gone before they were read)
};

class Collector {
 public:
  using LogCallback = std::function<void(const std::string& line)>;
  Collector(client::Client& client, zmq::context_t& context, sink::Sink& sink, CollectorOptions options,
            LogCallback log);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Reads the current assignments and starts the loop thread.
  client::Status start();
  // Stops the loop and, unless `grace` is zero, commits a final checkpoint
  // of every task (within the client's request timeout). The tasks'
  // assignments stay: the caller deregisters the agent next, and each
  // successor starts from the final checkpoint.
  void stop(std::chrono::milliseconds grace);

  CollectorStats stats() const;
  // As of the last checkpoint interval.
  std::vector<TaskStats> tasks() const;

 private:
  struct Task;
  struct Source;
  using Clock = std::chrono::steady_clock;

  void run();
  void turn(Clock::time_point now);
  void take_assignments();
  void start_task(const client::collection::Assignment& a);
  void drop_task(const std::string& id, const char* why);
  void send_fetches(Clock::time_point now);
  void receive(std::chrono::milliseconds wait, Clock::time_point now);
  void on_reply(Task& t, const fetch::FetchReply& reply, Clock::time_point now);
  void on_fetch_error(Task& t, const fetch::FetchError& e, Clock::time_point now);
  bool append(Task& t, const std::string& data);
  void count_collected(const Task& t, int64_t lines, size_t bytes);
  void checkpoint_all();
  void publish();  // the tasks() view, from the loop thread
  void finish_revoking();
  records::CheckpointRecord checkpoint_of(const Task& t) const;
  Source* source_for(const std::string& endpoint);
  void close_idle_sources();
  void log(const std::string& line);

  client::Client& client_;
  zmq::context_t& context_;
  sink::Sink& sink_;
  CollectorOptions options_;
  LogCallback log_;
  std::unique_ptr<client::collection::AssignmentWatch> watch_;

  mutable std::mutex mu_;  // guards latest_, stats_ and published_
  std::optional<std::map<std::string, client::collection::Assignment>> latest_;
  CollectorStats stats_;
  std::vector<TaskStats> published_;

  // Loop thread only.
  std::map<std::string, client::collection::Assignment> last_set_;
  bool retry_start_ = false;
  std::map<std::string, std::unique_ptr<Task>> tasks_;
  std::map<std::string, std::unique_ptr<Source>> sources_;  // by endpoint; loop thread only
  Clock::time_point next_checkpoint_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> watch_broken_{false};
  std::atomic<int64_t> grace_ms_{0};
  std::thread thread_;
};

}  // namespace corral::agent::collector
