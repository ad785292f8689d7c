#include "coordinator/assign/driver.h"

#include "coordinator/base/check.h"
#include "coordinator/kv/key_range.h"
#include "schema/log_records.h"

namespace corral::assign {

namespace rec = corral::schema::records;

namespace {

template <class T>
const T* parsed(const std::variant<T, rec::Problem>& v) {
  return std::get_if<T>(&v);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Every key of a prefix, at the store's current revision.
Result<std::vector<kv::KeyValue>> scan(const kv::MvccStore& kv, std::string_view prefix) {
  auto r = kv.range(prefix, kv::prefix_end(prefix));
  if (!r.ok()) return r.error();
  return std::move(r->kvs);
}

}  // namespace

Driver::Driver(EngineOptions options) : options_(options), engine_(std::make_unique<Engine>(options)) {}

Status Driver::reload(const kv::MvccStore& kv) {
  engine_ = std::make_unique<Engine>(options_);
  revoking_.clear();
  collectors_.clear();
  refresh_.clear();
  touched_ = false;
  auto agents = scan(kv, rec::kAgentsPrefix);
  auto drains = scan(kv, rec::kDrainPrefix);
  auto streams = scan(kv, rec::kStreamsPrefix);
  auto assigns = scan(kv, rec::kAssignPrefix);
  for (auto* r : {&agents, &drains, &streams, &assigns}) {
    if (!r->ok()) return r->error();
  }
  for (const auto& kv : *agents) {
    auto id = rec::agent_id_of(kv.key);
    auto a = rec::parse_agent(kv.value);
    if (!id || !parsed(a) || !parsed(a)->collector) continue;
    collectors_.insert(*id);
    engine_->restore_collector(*id, CollectorSpec{parsed(a)->capacity, parsed(a)->zone()});
  }
  for (const auto& kv : *drains) {
    if (auto id = rec::drained_id_of(kv.key)) engine_->restore_draining(*id);
  }
  for (const auto& kv : *streams) {
    auto task = rec::task_of_stream_key(kv.key);
    auto s = rec::parse_stream(kv.value);
    if (task && parsed(s)) engine_->restore_stream(task->id(), parsed(s)->zone);
  }
  for (const auto& kv : *assigns) {
    auto key = rec::parse_assign_key(kv.key);
    auto a = rec::parse_assignment(kv.value);
    if (!key || !parsed(a)) continue;
    Placement p{key->collector, parsed(a)->revoking ? TaskState::kRevoking : TaskState::kActive, parsed(a)->to};
    engine_->restore_assignment(key->task.id(), p);
    if (parsed(a)->revoking) revoking_[kv.key] = kv.mod_revision;
  }
  engine_->finish_restore();
  return Status();
}

void Driver::on_changes(kv::WriteTxn& txn, size_t first_change) {
  const size_t end = txn.change_count();
  for (size_t i = first_change; i < end; ++i) react(txn, txn.change(i));
  if (!touched_) return;
  touched_ = false;
  for (const auto& change : engine_->finish()) {
    refresh_.erase(change.task);
    write(txn, change);
  }
  for (const auto& task : refresh_) {
    auto p = engine_->placement(task);
    auto name = rec::parse_task(task);
    if (!p || !name) continue;
    auto current = txn.range(rec::assign_key(p->owner, *name));
    if (current.ok() && !current->kvs.empty()) rewrite_value(txn, task, *p, current->kvs[0].create_revision);
  }
  refresh_.clear();
}

void Driver::react(const kv::WriteTxn& txn, const kv::Event& ev) {
  const std::string& key = ev.kv.key;
  if (!starts_with(key, "/corral/") && !starts_with(key, rec::kStreamsPrefix)) return;
  const bool put = ev.type == kv::Event::Type::kPut;
  if (auto id = rec::agent_id_of(key)) {
    on_agent(*id, ev);
  } else if (auto drained = rec::drained_id_of(key)) {
    engine_->set_draining(*drained, put);
    touched_ = true;
  } else if (key == rec::kRebalanceKey) {
    if (put) engine_->rebalance();
    touched_ = put || touched_;
  } else if (starts_with(key, rec::kStreamsPrefix)) {
    on_stream(txn, ev);
  } else if (auto assign = rec::parse_assign_key(key); assign && !put) {
    engine_->released(assign->task.id(), assign->collector);
    revoking_.erase(key);
    touched_ = true;
  }
}

void Driver::on_agent(const std::string& id, const kv::Event& ev) {
  const bool was = collectors_.count(id) > 0;
  if (ev.type == kv::Event::Type::kPut) {
    auto a = rec::parse_agent(ev.kv.value);
    if (parsed(a) && parsed(a)->collector) {
      collectors_.insert(id);
      engine_->upsert_collector(id, CollectorSpec{parsed(a)->capacity, parsed(a)->zone()});
      touched_ = true;
      return;
    }
  }
  if (was) {
    collectors_.erase(id);
    engine_->remove_collector(id);
    touched_ = true;
  }
}

void Driver::on_stream(const kv::WriteTxn& txn, const kv::Event& ev) {
  auto task = rec::task_of_stream_key(ev.kv.key);
  if (!task) return;
  touched_ = true;
  if (ev.type == kv::Event::Type::kDelete) {
    engine_->remove_stream(task->id());
    refresh_.erase(task->id());
    return;
  }
  auto now = rec::parse_stream(ev.kv.value);
  if (!parsed(now)) return;  // apply refuses such a put; kept from before validation
  engine_->upsert_stream(task->id(), parsed(now)->zone);
  if (ev.kv.version == 1) return;  // a new stream: its assignment is written whole
  // An overwrite: its event may come without the old record (the store
  // reads none for puts, kv::MvccStore::set_prev_kv_in_events), so it is
  // read as of the revision before, when the stream held it.
  std::optional<kv::KeyValue> old = ev.prev_kv;
  if (!old) {
    kv::RangeOptions before_put;
    before_put.revision = ev.kv.mod_revision - 1;
    auto r = txn.range(ev.kv.key, {}, before_put);
    if (r.ok() && !r->kvs.empty()) old = std::move(r->kvs[0]);
  }
  bool changed = true;  // unknown (not readable) counts as changed: a rewrite costs one put
  if (old) {
    auto before = rec::parse_stream(old->value);
    changed = !parsed(before) || parsed(before)->agent != parsed(now)->agent ||
              parsed(before)->endpoint != parsed(now)->endpoint;
  }
  if (changed) refresh_.insert(task->id());
}

void Driver::write(kv::WriteTxn& txn, const AssignmentChange& change) {
  auto name = rec::parse_task(change.task);
  CORRAL_CHECK(name.has_value());
  const bool same_owner = change.stored && change.wanted && change.stored->owner == change.wanted->owner;
  int64_t epoch = txn.revision();
  if (change.stored) {
    const std::string old_key = rec::assign_key(change.stored->owner, *name);
    if (same_owner) {
      auto current = txn.range(old_key);
      CORRAL_CHECK(current.ok() && !current->kvs.empty());
      epoch = current->kvs[0].create_revision;
    } else {
      auto del = txn.delete_range(old_key);
      CORRAL_CHECK(del.ok());
      revoking_.erase(old_key);
    }
  }
  if (change.wanted) rewrite_value(txn, change.task, *change.wanted, epoch);
}

void Driver::rewrite_value(kv::WriteTxn& txn, const TaskId& task, const Placement& placement, int64_t epoch) {
  auto name = rec::parse_task(task);
  CORRAL_CHECK(name.has_value());
  auto stream = txn.range(rec::stream_key(*name));
  CORRAL_CHECK(stream.ok() && !stream->kvs.empty());
  auto source = rec::parse_stream(stream->kvs[0].value);
  rec::AssignmentRecord r;
  r.stream = rec::stream_key(*name);
  if (parsed(source)) {
    r.agent = parsed(source)->agent;
    r.endpoint = parsed(source)->endpoint;
  }
  r.revoking = placement.state == TaskState::kRevoking;
  r.to = placement.target;
  r.epoch = epoch;
  const std::string key = rec::assign_key(placement.owner, *name);
  auto put = txn.put(key, rec::encode_assignment(r));
  CORRAL_CHECK(put.ok());
  if (r.revoking) {
    revoking_[key] = txn.revision();
  } else {
    revoking_.erase(key);
  }
}

}  // namespace corral::assign
