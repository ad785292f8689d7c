#include "client/collection.h"

#include "client/txn.h"

namespace corral::client::collection {

namespace {

Error bad(std::string message) { return make_error(ErrorCode::kBadRequest, std::move(message)); }

std::optional<Assignment> to_assignment(const std::string& collector, const KeyValue& kv) {
  auto key = records::parse_assign_key(kv.key);
  if (!key || key->collector != collector) return std::nullopt;
  auto rec = records::parse_assignment(kv.value);
  if (!std::holds_alternative<records::AssignmentRecord>(rec)) return std::nullopt;
  return Assignment{key->task, std::get<records::AssignmentRecord>(rec), kv.create_revision, kv.mod_revision};
}

}  // namespace

Status check_spec(const RegistrationSpec& spec) {
  if (!records::valid_id(spec.agent_id)) return bad("agent id '" + spec.agent_id + "' must be 1..128 bytes of [A-Za-z0-9._-]");
  if (spec.streams.size() > kMaxStreamsPerAgent) {
    return bad("an agent registers at most " + std::to_string(kMaxStreamsPerAgent) + " streams");
  }
  if (spec.ttl_seconds < 1) return bad("lease TTL must be at least 1 s");
  auto problem = records::check_client_put(records::agent_key(spec.agent_id), records::encode_agent(spec.agent));
  if (!problem.empty()) return bad(problem);
  for (const auto& [task, stream] : spec.streams) {
    problem = records::check_client_put(records::stream_key(task), records::encode_stream(stream));
    if (!problem.empty()) return bad(problem);
  }
  return Status();
}

Registration::Registration(Client& client, RegistrationSpec spec, EventCallback on_event)
    : client_(client), spec_(std::move(spec)), on_event_(std::move(on_event)) {}

Registration::~Registration() { stop(false); }

Status Registration::register_once() {
  std::vector<LeaseKeyPut> puts;
  puts.push_back({records::agent_key(spec_.agent_id), records::encode_agent(spec_.agent)});
  for (const auto& [task, stream] : spec_.streams) puts.push_back({records::stream_key(task), records::encode_stream(stream)});
  auto granted = client_.lease_grant_with_keys(spec_.ttl_seconds, std::move(puts));
  if (!granted.ok()) return granted.error();
  lease_ = granted->id;
  ++registrations_;
  auto kept = keeper_->add(granted->id, granted->ttl_seconds);
  if (!kept.ok()) return kept;
  if (on_event_) {
    on_event_("registered " + spec_.agent_id + " with " + std::to_string(spec_.streams.size()) +
              " streams under lease " + std::to_string(granted->id) + " (ttl " + std::to_string(granted->ttl_seconds) + " s)");
  }
  return Status();
}

Status Registration::start() {
  if (auto s = check_spec(spec_); !s.ok()) return s;
  keeper_ = std::make_unique<LeaseKeeper>(client_, [this](int64_t id, const Error& why) {
    if (id != lease_.load()) return;
    if (on_event_) on_event_("lease " + std::to_string(id) + " lost: " + to_string(why));
    std::lock_guard lock(mu_);
    lost_ = true;
    cv_.notify_all();
  });
  auto s = register_once();
  if (!s.ok()) return s;
  thread_ = std::thread([this] { run(); });
  return Status();
}

void Registration::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait(lock, [&] { return stopping_ || lost_; });
    if (stopping_) break;
    lock.unlock();
    auto s = register_once();
    lock.lock();
    if (s.ok()) {
      lost_ = false;
    } else {
      if (on_event_) on_event_("registering again failed: " + to_string(s.error()));
      cv_.wait_for(lock, std::chrono::milliseconds(kReregisterRetryMs), [&] { return stopping_; });
    }
  }
}

void Registration::stop(bool deregister) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  keeper_.reset();
  if (deregister && lease_.load() != 0) (void)client_.lease_revoke(lease_.load());
}

AssignmentWatch::AssignmentWatch(Client& client, std::string collector_id, ChangeCallback on_change,
                                 ErrorCallback on_error)
    : client_(client), collector_id_(std::move(collector_id)), on_change_(std::move(on_change)),
      on_error_(std::move(on_error)) {}

Status AssignmentWatch::start() {
  handle_.cancel();  // an ended watch, when starting anew
  const std::string prefix = records::assign_prefix(collector_id_);
  auto now = client_.get_prefix(prefix);
  if (!now.ok()) return now.error();
  {
    std::lock_guard lock(mu_);
    current_.clear();
    for (const auto& kv : now->kvs) {
      if (auto a = to_assignment(collector_id_, kv)) current_[a->task.id()] = *a;
    }
    on_change_(current_, now->header.revision);
  }
  WatchOptions w;
  w.key = prefix;
  w.range_end = prefix_range_end(prefix);
  w.start_revision = now->header.revision + 1;
  handle_ = client_.watch(w, [this](const WatchUpdate& u) { on_update(u); });
  return Status();
}

void AssignmentWatch::on_update(const WatchUpdate& u) {
  if (u.error) {
    if (on_error_) on_error_(*u.error);
    return;
  }
  if (u.events.empty()) return;
  std::lock_guard lock(mu_);
  for (const auto& ev : u.events) {
    auto key = records::parse_assign_key(ev.kv.key);
    if (!key) continue;
    if (ev.type == WatchEvent::Type::kDelete) {
      current_.erase(key->task.id());
    } else if (auto a = to_assignment(collector_id_, ev.kv)) {
      current_[a->task.id()] = *a;
    }
  }
  on_change_(current_, u.events.back().kv.mod_revision);
}

void AssignmentWatch::stop() { handle_.cancel(); }

Result<std::optional<records::CheckpointRecord>> load_checkpoint(Client& client, const TaskName& task) {
  auto r = client.get(records::checkpoint_key(task));
  if (!r.ok()) return r.error();
  if (r->kvs.empty()) return std::optional<records::CheckpointRecord>();
  auto cp = records::parse_checkpoint(r->kvs[0].value);
  if (auto* p = std::get_if<records::Problem>(&cp)) return make_error(ErrorCode::kBadResponse, *p);
  return std::optional<records::CheckpointRecord>(std::get<records::CheckpointRecord>(cp));
}

TxnRequest fenced_checkpoint_txn(const std::string& collector, const TaskName& task, int64_t epoch,
                                 const std::optional<records::CheckpointRecord>& checkpoint, bool release) {
  Txn txn;
  txn.when(compare_create_revision(records::assign_key(collector, task), Compare::Op::kEqual, epoch));
  if (checkpoint) txn.then(op_put(records::checkpoint_key(task), records::encode_checkpoint(*checkpoint)));
  if (release) txn.then(op_delete(records::assign_key(collector, task)));
  return txn.build();
}

Status fenced_outcome(const std::string& collector, const TaskName& task, int64_t epoch,
                      const Result<TxnResult>& answer) {
  if (!answer.ok()) return answer.error();
  if (!answer->succeeded) {
    return make_error(ErrorCode::kFenced, task.id() + ": " + collector + " no longer holds it at epoch " +
                                              std::to_string(epoch));
  }
  return Status();
}

Status commit_checkpoint(Client& client, const std::string& collector, const TaskName& task, int64_t epoch,
                         const records::CheckpointRecord& checkpoint) {
  auto answer = client.txn(fenced_checkpoint_txn(collector, task, epoch, checkpoint, false));
  return fenced_outcome(collector, task, epoch, answer);
}

Status release(Client& client, const std::string& collector, const TaskName& task, int64_t epoch,
               const std::optional<records::CheckpointRecord>& final_checkpoint) {
  auto answer = client.txn(fenced_checkpoint_txn(collector, task, epoch, final_checkpoint, true));
  return fenced_outcome(collector, task, epoch, answer);
}

}  // namespace corral::client::collection
