#include "agent/collector/collector.h"

#include <algorithm>
#include <future>

#include "coordinator/base/check.h"

namespace corral::agent::collector {

namespace collection = corral::client::collection;
using namespace std::chrono_literals;

// One running task. Its position is the next byte to fetch; `durable` is the
// position its last committed checkpoint holds.
struct Collector::Task {
  collection::Assignment assignment;
  std::string id;       // "<app>/<topic>/<ip>"
  std::string stream;   // "<app>/<topic>"
  std::string file;     // the next fetch's position
  uint64_t offset = 0;
  std::string committed_file;  // the last checkpoint committed
  uint64_t committed_offset = 0;
  uint64_t lag_bytes = 0;
  int64_t lines_total = 0;     // the checkpoint's running count
  int64_t lines_here = 0;      // delivered by us since we got the task
  bool dirty = false;          // appended since the last checkpoint
  bool in_flight = false;
  uint64_t fetch_id = 0;
  std::string endpoint;
  Clock::time_point next_fetch{};
  // Lines fetched but not yet accepted by the sink (kFull): retried before
  // anything else is fetched.
  std::optional<std::string> held;
  std::string held_next_file;
  uint64_t held_next_offset = 0;
  uint64_t held_lag = 0;
};

struct Collector::Source {
  std::unique_ptr<fetch::FetchClient> client;
  std::map<uint64_t, std::string> waiting;  // fetch id -> task id
};

Collector::Collector(client::Client& client, zmq::context_t& context, sink::Sink& sink, CollectorOptions options,
                     LogCallback log)
    : client_(client), context_(context), sink_(sink), options_(std::move(options)), log_(std::move(log)) {}

Collector::~Collector() { stop(0ms); }

void Collector::log(const std::string& line) {
  if (log_) log_(line);
}

client::Status Collector::start() {
  watch_ = std::make_unique<collection::AssignmentWatch>(
      client_, options_.collector_id,
      [this](const std::map<std::string, collection::Assignment>& now, int64_t) {
        std::lock_guard lock(mu_);
        latest_ = now;
      },
      [this](const client::Error& e) {
        log("assignment watch ended: " + client::to_string(e) + "; reading the assignments again");
        watch_broken_ = true;
      });
  auto s = watch_->start();
  if (!s.ok()) return s;
  next_checkpoint_ = Clock::now() + std::chrono::milliseconds(options_.checkpoint_interval_ms);
  thread_ = std::thread([this] { run(); });
  return client::Status();
}

void Collector::stop(std::chrono::milliseconds grace) {
  grace_ms_ = grace.count();
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (watch_) watch_->stop();
}

void Collector::run() {
  while (!stopping_) turn(Clock::now());
  // Wind down: one final durable checkpoint of what the sink holds. Fetches
  // still in flight are abandoned: nothing of theirs was appended, so the
  // successor fetches them again, and a source that no longer answers
  // cannot hold the stop up.
  if (grace_ms_.load() > 0) checkpoint_all();
  publish();
}

void Collector::turn(Clock::time_point now) {
  // A watch that ended (compacted past, or cancelled by a member) is made
  // anew from a fresh read: the set it reports replaces what we hold.
  if (watch_broken_.exchange(false)) {
    if (auto s = watch_->start(); !s.ok()) {
      log("assignment watch: " + client::to_string(s.error()) + "; retrying");
      watch_broken_ = true;
    }
  }
  take_assignments();
  finish_revoking();
  send_fetches(now);
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_checkpoint_ - now);
  receive(std::clamp(wait, 0ms, std::chrono::milliseconds(kMaxPollMs)), now);
  if (Clock::now() >= next_checkpoint_) {
    checkpoint_all();
    close_idle_sources();
    publish();
    next_checkpoint_ = Clock::now() + std::chrono::milliseconds(options_.checkpoint_interval_ms);
  }
}

void Collector::take_assignments() {
  std::optional<std::map<std::string, collection::Assignment>> now;
  {
    std::lock_guard lock(mu_);
    now.swap(latest_);
  }
  if (now) {
    last_set_ = *now;
  } else if (retry_start_) {
    now = last_set_;  // a task that could not start yet: try it again
  } else {
    return;
  }
  retry_start_ = false;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    auto next = std::next(it);
    auto a = now->find(it->first);
    if (a == now->end()) {
      drop_task(it->first, "moved away");
    } else if (a->second.epoch != it->second->assignment.epoch) {
      drop_task(it->first, "given again at a new epoch");
    }
    it = next;
  }
  for (const auto& [id, a] : *now) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) {
      start_task(a);
    } else {
      it->second->assignment = a;  // e.g. now revoking
    }
  }
}

void Collector::start_task(const collection::Assignment& a) {
  auto cp = collection::load_checkpoint(client_, a.task);
  if (!cp.ok()) {
    log("task " + a.task.id() + ": cannot read its checkpoint (" + client::to_string(cp.error()) + "); will retry");
    retry_start_ = true;
    return;
  }
  auto t = std::make_unique<Task>();
  t->assignment = a;
  t->id = a.task.id();
  t->stream = a.task.app + "/" + a.task.topic;
  t->endpoint = a.record.endpoint;
  if (*cp) {
    t->file = t->committed_file = (*cp)->file;
    t->offset = t->committed_offset = static_cast<uint64_t>((*cp)->offset);
    t->lines_total = (*cp)->lines;
  }
  log("task " + t->id + " started at epoch " + std::to_string(a.epoch) + " from " +
      (t->file.empty() ? std::string("the start") : t->file + ":" + std::to_string(t->offset)));
  tasks_[t->id] = std::move(t);
  if (options_.metrics) options_.metrics->tasks_assigned.set(static_cast<double>(tasks_.size()));
  std::lock_guard lock(mu_);
  ++stats_.tasks_started;
}

void Collector::drop_task(const std::string& id, const char* why) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  auto s = sink_.close(id);
  if (!s.ok()) log("task " + id + ": closing its sink: " + sink::to_string(s.error()));
  log("task " + id + " stopped: " + why);
  tasks_.erase(it);
  if (options_.metrics) options_.metrics->lag_bytes.with({id}).set(0);
  if (options_.metrics) options_.metrics->tasks_assigned.set(static_cast<double>(tasks_.size()));
}

// The connection to a source, made on first use; null (and logged) when the
// endpoint cannot be used, so that one bad stream record stops only its task.
Collector::Source* Collector::source_for(const std::string& endpoint) {
  auto it = sources_.find(endpoint);
  if (it != sources_.end()) return it->second.get();
  fetch::FetchClientOptions o;
  o.endpoint = endpoint;
  o.max_in_flight = options_.max_in_flight_fetches;
  auto c = fetch::FetchClient::create(context_, o);
  if (!c.ok()) {
    log("source " + endpoint + ": " + fetch::to_string(c.error()));
    return nullptr;
  }
  auto s = std::make_unique<Source>();
  s->client = std::move(c).value();
  return sources_.emplace(endpoint, std::move(s)).first->second.get();
}

void Collector::send_fetches(Clock::time_point now) {
  for (auto& [id, t] : tasks_) {
    if (t->in_flight || t->assignment.record.revoking || now < t->next_fetch) continue;
    if (t->held && !append(*t, *t->held)) continue;
    fetch::FetchRequest r;
    r.stream = t->stream;
    r.file = t->file;
    r.offset = t->offset;
    r.committed_file = t->committed_file;
    r.committed_offset = t->committed_offset;
    r.max_bytes = options_.fetch_max_bytes;
    Source* src = source_for(t->endpoint);
    if (src == nullptr) {
      t->next_fetch = now + std::chrono::milliseconds(kFetchRetryMs);
      continue;
    }
    auto sent = src->client->submit(r, std::chrono::milliseconds(kFetchTimeoutMs));
    if (!sent.ok()) continue;  // backpressure: the source's connection is full; next turn
    t->in_flight = true;
    t->fetch_id = *sent;
    src->waiting[*sent] = id;
  }
}

void Collector::receive(std::chrono::milliseconds wait, Clock::time_point now) {
  std::vector<zmq::pollitem_t> items;
  std::vector<Source*> polled;
  for (auto& [endpoint, s] : sources_) {
    if (s->client->in_flight() == 0) continue;
    items.push_back({s->client->socket().handle(), 0, ZMQ_POLLIN, 0});
    polled.push_back(s.get());
  }
  if (items.empty()) {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(kMaxPollMs)));
    return;
  }
  (void)zmq::poll(items.data(), items.size(), wait);
  for (Source* s : polled) {
    for (auto& c : s->client->collect(0ms)) {
      auto w = s->waiting.find(c.id);
      if (w == s->waiting.end()) continue;
      auto task = tasks_.find(w->second);
      s->waiting.erase(w);
      if (task == tasks_.end() || task->second->fetch_id != c.id) continue;  // dropped meanwhile
      task->second->in_flight = false;
      if (c.reply.ok()) {
        on_reply(*task->second, *c.reply, now);
      } else {
        on_fetch_error(*task->second, c.reply.error(), now);
      }
    }
  }
}

void Collector::on_reply(Task& t, const fetch::FetchReply& reply, Clock::time_point now) {
  if (reply.error == fetch::FetchErrorCode::kUnknownFile) {
    // The file we were at is gone from the source: continue at the oldest
    // one it still has. What lay between is lost; say so loudly.
    log("task " + t.id + ": source no longer has file " + t.file + " (" + reply.message + "); continuing at " +
        reply.file + ":" + std::to_string(reply.offset));
    t.file = reply.file;
    t.offset = reply.offset;
    if (options_.metrics) options_.metrics->fetch_errors.inc();
    std::lock_guard lock(mu_);
    ++stats_.fetch_errors;
    return;
  }
  if (reply.error != fetch::FetchErrorCode::kOk) {
    on_fetch_error(t, fetch::make_fetch_error(reply.error, reply.message), now);
    return;
  }
  t.held_next_file = reply.next_file;
  t.held_next_offset = reply.next_offset;
  t.held_lag = reply.end_bytes;
  if (reply.data.empty()) {
    t.file = reply.next_file;
    t.offset = reply.next_offset;
    t.lag_bytes = reply.end_bytes;
    if (options_.metrics) options_.metrics->lag_bytes.with({t.id}).set(static_cast<double>(t.lag_bytes));
    t.next_fetch = now + std::chrono::milliseconds(kIdleFetchIntervalMs);
    return;
  }
  if (!append(t, reply.data)) t.held = reply.data;
}

// Appends a fetched batch; on success the task's position moves past it.
bool Collector::append(Task& t, const std::string& data) {
  const auto append_start = Clock::now();
  auto s = sink_.append(t.id, data, append_start + std::chrono::milliseconds(kSinkAppendWaitMs));
  if (options_.metrics) options_.metrics->sink_write_seconds.observe(Clock::now() - append_start);
  if (!s.ok()) {
    if (s.error().code != sink::SinkErrorCode::kFull) {
      // The sink's state past the last durable point is unknown: restart the
      // task from its checkpoint (duplicates, never loss).
      log("task " + t.id + ": sink failed (" + sink::to_string(s.error()) + "); resuming from its checkpoint");
      (void)sink_.close(t.id);
      t.file = t.committed_file;
      t.offset = t.committed_offset;
      t.held.reset();
      t.dirty = false;
      t.next_fetch = Clock::now() + std::chrono::milliseconds(kFetchRetryMs);
      if (options_.metrics) options_.metrics->sink_errors.inc();
      std::lock_guard lock(mu_);
      ++stats_.sink_errors;
    }
    return false;
  }
  const auto lines = static_cast<int64_t>(std::count(data.begin(), data.end(), '\n'));
  t.held.reset();
  t.file = t.held_next_file;
  t.offset = t.held_next_offset;
  t.lag_bytes = t.held_lag;
  t.lines_total += lines;
  t.lines_here += lines;
  t.dirty = true;
  if (options_.metrics) count_collected(t, lines, data.size());
  std::lock_guard lock(mu_);
  stats_.lines += lines;
  stats_.bytes += static_cast<int64_t>(data.size());
  return true;
}

void Collector::on_fetch_error(Task& t, const fetch::FetchError& e, Clock::time_point now) {
  t.next_fetch = now + std::chrono::milliseconds(kFetchRetryMs);
  int64_t errors = 0;
  if (options_.metrics) options_.metrics->fetch_errors.inc();
  {
    std::lock_guard lock(mu_);
    errors = stats_.fetch_errors++;
  }
  // One line per hundred: a source that is down must not flood the log.
  if (errors % 100 == 0) log("task " + t.id + ": fetch from " + t.endpoint + " failed: " + fetch::to_string(e));
}

records::CheckpointRecord Collector::checkpoint_of(const Task& t) const {
  records::CheckpointRecord cp;
  cp.file = t.file;
  cp.offset = static_cast<int64_t>(t.offset);
  cp.end = static_cast<int64_t>(t.offset + t.lag_bytes);
  cp.epoch = t.assignment.epoch;
  cp.collector = options_.collector_id;
  cp.lines = t.lines_total;
  return cp;
}

// Makes every changed task durable, then commits all their checkpoints with
// the commits in flight together; a fenced one stops its task.
void Collector::checkpoint_all() {
  struct Commit {
    std::string id;
    std::string file;
    uint64_t offset;
    std::future<client::Result<client::TxnResult>> answer;
  };
  std::vector<Commit> commits;
  for (auto& [id, t] : tasks_) {
    if (!t->dirty || t->file.empty()) continue;
    const auto durable_start = Clock::now();
    auto s = sink_.make_durable(id);
    if (options_.metrics) options_.metrics->sink_fsync_seconds.observe(Clock::now() - durable_start);
    if (!s.ok()) {
      log("task " + id + ": sink not durable (" + sink::to_string(s.error()) + "); resuming from its checkpoint");
      (void)sink_.close(id);
      t->file = t->committed_file;
      t->offset = t->committed_offset;
      t->held.reset();
      t->dirty = false;
      continue;
    }
    auto txn = collection::fenced_checkpoint_txn(options_.collector_id, t->assignment.task, t->assignment.epoch,
                                                 checkpoint_of(*t), false);
    commits.push_back({id, t->file, t->offset, client_.call_future(std::move(txn))});
    t->dirty = false;
  }
  for (auto& c : commits) {
    auto it = tasks_.find(c.id);
    if (it == tasks_.end()) continue;
    Task& t = *it->second;
    auto s = collection::fenced_outcome(options_.collector_id, t.assignment.task, t.assignment.epoch, c.answer.get());
    if (s.ok()) {
      t.committed_file = c.file;
      t.committed_offset = c.offset;
      if (options_.metrics) options_.metrics->checkpoint_commits.inc();
      std::lock_guard lock(mu_);
      ++stats_.checkpoints;
    } else if (s.error().code == client::ErrorCode::kFenced) {
      if (options_.metrics) options_.metrics->fences.inc();
      {
        std::lock_guard lock(mu_);
        ++stats_.tasks_fenced;
      }
      drop_task(c.id, "fenced: the task has moved on");
    } else {
      t.dirty = true;  // outcome unknown or not done: commit again next time
      log("task " + c.id + ": checkpoint not committed: " + client::to_string(s.error()));
    }
  }
}

// Revoking tasks with no fetch in flight: durable sink, then the final
// checkpoint and the release in one fenced txn.
void Collector::finish_revoking() {
  std::vector<std::string> done;
  for (auto& [id, t] : tasks_) {
    if (!t->assignment.record.revoking || t->in_flight) continue;
    if (t->held && !append(*t, *t->held)) continue;
    auto s = sink_.make_durable(id);
    if (!s.ok()) {
      log("task " + id + ": sink not durable before release (" + sink::to_string(s.error()) + ")");
      continue;  // the leader's release timeout hands it on from the last checkpoint
    }
    std::optional<records::CheckpointRecord> cp;
    if (!t->file.empty()) cp = checkpoint_of(*t);
    auto r = collection::release(client_, options_.collector_id, t->assignment.task, t->assignment.epoch, cp);
    if (r.ok() || r.error().code == client::ErrorCode::kFenced) {
      log("task " + id + (r.ok() ? " released to " + t->assignment.record.to : std::string(" already moved on")));
      if (options_.metrics && !r.ok()) options_.metrics->fences.inc();
      std::lock_guard lock(mu_);
      ++(r.ok() ? stats_.tasks_released : stats_.tasks_fenced);
      done.push_back(id);
    }
  }
  for (const auto& id : done) drop_task(id, "released");
}

void Collector::close_idle_sources() {
  for (auto it = sources_.begin(); it != sources_.end();) {
    bool used = std::any_of(tasks_.begin(), tasks_.end(), [&](const auto& t) { return t.second->endpoint == it->first; });
    if (!used && it->second->client->in_flight() == 0) {
      it = sources_.erase(it);
    } else {
      ++it;
    }
  }
}

// Per task: its lines and bytes, and its lag as of this batch.
void Collector::count_collected(const Task& t, int64_t lines, size_t bytes) {
  options_.metrics->lines_collected.with({t.id}).inc(static_cast<uint64_t>(lines));
  options_.metrics->bytes_collected.with({t.id}).inc(bytes);
  options_.metrics->lag_bytes.with({t.id}).set(static_cast<double>(t.lag_bytes));
}

CollectorStats Collector::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Collector::publish() {
  std::vector<TaskStats> view;
  for (const auto& [id, t] : tasks_) {
    view.push_back(TaskStats{id, t->assignment.epoch, t->assignment.record.revoking, t->file, t->offset,
                             t->lag_bytes, t->lines_here});
  }
  std::lock_guard lock(mu_);
  published_ = std::move(view);
}

std::vector<TaskStats> Collector::tasks() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace corral::agent::collector
