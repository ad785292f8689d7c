#include "cli/collection_view.h"

#include <algorithm>
#include <set>
#include <variant>

namespace corral::cli {

namespace {

template <class Record, class Parse>
Parsed<Record> parse_value(const std::string& text, Parse parse) {
  Parsed<Record> p;
  p.present = true;
  auto r = parse(text);
  if (auto* record = std::get_if<Record>(&r)) {
    p.value = std::move(*record);
  } else {
    p.problem = std::get<records::Problem>(r);
  }
  return p;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string roles_text(const records::AgentRecord& r) {
  std::vector<std::string> roles;
  if (r.source) roles.push_back("source");
  if (r.collector) roles.push_back("collector");
  return join(roles, ",");
}

std::string labels_text(const records::AgentRecord& r) {
  std::vector<std::string> labels;
  for (const auto& [k, v] : r.labels) labels.push_back(k + "=" + v);
  return labels.empty() ? "-" : join(labels, ",");
}

std::string ttl_text(const AgentRow& row) {
  switch (row.ttl_state) {
    case LeaseTtlState::kNoLease: return "-";
    case LeaseTtlState::kUnknown: return "?";
    case LeaseTtlState::kExpired: return "expired";
    case LeaseTtlState::kKnown: return std::to_string(row.lease_ttl) + "s";
  }
  return "?";
}

// A checkpoint field as text: "-" without a checkpoint, "?" for a bad one.
template <class F>
std::string checkpoint_text(const TaskRow& row, F field) {
  if (!row.checkpoint.present) return "-";
  if (!row.checkpoint.value) return "?";
  return field(*row.checkpoint.value);
}

}  // namespace

// --- agents ------------------------------------------------------------------------

std::vector<AgentRow> agent_rows(const std::vector<KeyValue>& agents, const std::vector<KeyValue>& assigns,
                                 const std::vector<KeyValue>& drains) {
  std::map<std::string, int64_t> held;
  for (const auto& kv : assigns) {
    if (auto key = records::parse_assign_key(kv.key)) ++held[key->collector];
  }
  std::set<std::string> drained;
  for (const auto& kv : drains) {
    if (auto id = records::drained_id_of(kv.key)) drained.insert(*id);
  }
  std::vector<AgentRow> rows;
  for (const auto& kv : agents) {
    auto id = records::agent_id_of(kv.key);
    if (!id) continue;
    AgentRow row;
    row.id = *id;
    row.record = parse_value<records::AgentRecord>(kv.value, records::parse_agent);
    row.lease = kv.lease;
    row.ttl_state = kv.lease ? LeaseTtlState::kUnknown : LeaseTtlState::kNoLease;
    row.tasks = held.count(*id) ? held[*id] : 0;
    row.draining = drained.count(*id) > 0;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const AgentRow& a, const AgentRow& b) { return a.id < b.id; });
  return rows;
}

std::vector<int64_t> leases_to_look_up(const std::vector<AgentRow>& rows, size_t max) {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (const auto& row : rows) {
    if (out.size() >= max) break;
    if (row.lease != 0 && seen.insert(row.lease).second) out.push_back(row.lease);
  }
  return out;
}

void apply_lease_ttls(std::vector<AgentRow>& rows, const std::map<int64_t, int64_t>& ttls) {
  for (auto& row : rows) {
    if (row.lease == 0) continue;
    auto it = ttls.find(row.lease);
    if (it == ttls.end()) continue;
    row.ttl_state = it->second < 0 ? LeaseTtlState::kExpired : LeaseTtlState::kKnown;
    row.lease_ttl = it->second;
  }
}

std::vector<std::string> agent_head() {
  return {"ID", "IP", "ROLES", "CAPACITY", "LABELS", "LEASE TTL", "TASKS", "DRAINING"};
}

std::vector<std::string> agent_cells(const AgentRow& row) {
  const records::AgentRecord* r = row.record.value ? &*row.record.value : nullptr;
  return {row.id,
          r ? r->ip : "?",
          r ? roles_text(*r) : "?",
          r ? std::to_string(r->capacity) : "?",
          r ? labels_text(*r) : "?",
          ttl_text(row),
          std::to_string(row.tasks),
          row.draining ? "yes" : "no"};
}

// --- tasks --------------------------------------------------------------------------

std::optional<int64_t> TaskRow::lag() const {
  if (!checkpoint.value) return std::nullopt;
  const auto& cp = *checkpoint.value;
  // `end` is optional and 0 when absent; an end behind the offset is a stale
  // figure (fetched before the last batch), not a lag.
  if (cp.end <= 0 || cp.end < cp.offset) return std::nullopt;
  return cp.end - cp.offset;
}

std::string TaskRow::state() const {
  if (!assigned()) return "unassigned";
  if (!assignment.value) return "?";
  return assignment.value->revoking ? "revoking" : "active";
}

bool TaskFilter::matches(const TaskRow& row) const {
  return (collector.empty() || row.collector == collector) && (app.empty() || row.task.app == app) &&
         (topic.empty() || row.task.topic == topic);
}

std::vector<TaskRow> task_rows(const std::vector<KeyValue>& streams, const std::vector<KeyValue>& assigns,
                               const std::vector<KeyValue>& checkpoints) {
  std::map<std::string, records::TaskName> tasks;  // by id, so rows come sorted
  std::set<std::string> with_stream;
  for (const auto& kv : streams) {
    if (auto task = records::task_of_stream_key(kv.key)) {
      with_stream.insert(task->id());
      tasks.emplace(task->id(), *task);
    }
  }
  std::map<std::string, std::vector<TaskRow>> held;
  for (const auto& kv : assigns) {
    auto key = records::parse_assign_key(kv.key);
    if (!key) continue;
    TaskRow row;
    row.task = key->task;
    row.collector = key->collector;
    row.assignment = parse_value<records::AssignmentRecord>(kv.value, records::parse_assignment);
    row.epoch = kv.create_revision;
    tasks.emplace(key->task.id(), key->task);
    held[key->task.id()].push_back(std::move(row));
  }
  std::map<std::string, Parsed<records::CheckpointRecord>> progress;
  for (const auto& kv : checkpoints) {
    if (auto task = records::task_of_checkpoint_key(kv.key)) {
      progress[task->id()] = parse_value<records::CheckpointRecord>(kv.value, records::parse_checkpoint);
    }
  }
  std::vector<TaskRow> rows;
  for (const auto& [id, task] : tasks) {
    std::vector<TaskRow> mine = held.count(id) ? std::move(held[id]) : std::vector<TaskRow>(1);
    std::sort(mine.begin(), mine.end(), [](const TaskRow& a, const TaskRow& b) { return a.collector < b.collector; });
    for (auto& row : mine) {
      row.task = task;
      row.has_stream = with_stream.count(id) > 0;
      if (progress.count(id)) row.checkpoint = progress[id];
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::vector<TaskRow> filter_rows(std::vector<TaskRow> rows, const TaskFilter& filter) {
  std::erase_if(rows, [&](const TaskRow& row) { return !filter.matches(row); });
  return rows;
}

std::vector<std::string> task_head() {
  return {"TASK", "COLLECTOR", "STATE", "EPOCH", "OFFSET", "FILE", "LAG", "LINES"};
}

std::vector<std::string> task_cells(const TaskRow& row) {
  std::string state = row.state();
  if (state == "revoking") state += "->" + row.assignment.value->to;
  if (!row.has_stream) state += " (stream gone)";
  const auto lag = row.lag();
  return {row.task.id(),
          row.assigned() ? row.collector : "-",
          state,
          row.assigned() ? std::to_string(row.epoch) : "-",
          checkpoint_text(row, [](const auto& cp) { return std::to_string(cp.offset); }),
          checkpoint_text(row, [](const auto& cp) { return cp.file; }),
          checkpoint_text(row, [&](const auto&) { return lag ? std::to_string(*lag) : std::string("-"); }),
          checkpoint_text(row, [](const auto& cp) { return std::to_string(cp.lines); })};
}

// --- drain -------------------------------------------------------------------------

std::string drain_message(const DrainOutcome& o) {
  const std::string c = "collector " + o.collector;
  const std::string moving = o.tasks == 1 ? "its 1 task moves away as it is released"
                                           : "its " + std::to_string(o.tasks) + " tasks move away as they are released";
  std::string text;
  if (o.draining) {
    text = (o.was_draining ? c + " was already draining" : "drained " + c) + ": ";
    if (o.tasks == 0) {
      text += "it holds no tasks";
    } else if (o.revoking == o.tasks) {
      text += moving;
    } else {
      // The engine found no other collector for the rest: they stay.
      text += std::to_string(o.revoking) + " of its " + std::to_string(o.tasks) +
              " tasks move away as they are released; the others stay until another collector can take them";
    }
  } else if (!o.was_draining) {
    text = c + " was not draining";
  } else {
    text = "undrained " + c + ": it can be given tasks again";
  }
  // A drain mark is remembered for an id that is not (yet) a collector: say
  // so, since a typo in the id would otherwise look like a success.
  if (!o.registered) text += " (no collector " + o.collector + " is registered now)";
  return text;
}

int64_t count_revoking(const std::vector<KeyValue>& assigns) {
  int64_t n = 0;
  for (const auto& kv : assigns) {
    auto r = records::parse_assignment(kv.value);
    if (auto* a = std::get_if<records::AssignmentRecord>(&r); a && a->revoking) ++n;
  }
  return n;
}

bool is_registered_collector(const std::vector<KeyValue>& kvs) {
  for (const auto& kv : kvs) {
    auto r = records::parse_agent(kv.value);
    if (auto* agent = std::get_if<records::AgentRecord>(&r); agent && agent->collector) return true;
  }
  return false;
}

}  // namespace corral::cli
