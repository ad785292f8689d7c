#include "coordinator/http/collection_json.h"

#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "coordinator/http/kv_json.h"
#include "coordinator/http/route.h"
#include "schema/log_records.h"

namespace corral::http {
namespace {

namespace records = corral::schema::records;
using nlohmann::json;

constexpr std::string_view kPrefixes[] = {records::kAgentsPrefix, records::kStreamsPrefix, records::kAssignPrefix,
                                          records::kCheckpointsPrefix, records::kDrainPrefix};

json roles_json(const records::AgentRecord& a) {
  json roles = json::array();
  if (a.source) roles.push_back("source");
  if (a.collector) roles.push_back("collector");
  return roles;
}

// The agent records by id; a value that does not parse is left out here
// (agents_json shows it with its problem).
std::map<std::string, records::AgentRecord> parsed_agents(const CollectionRead& read) {
  std::map<std::string, records::AgentRecord> out;
  for (const auto& kv : read.agents) {
    auto id = records::agent_id_of(kv.key);
    if (!id) continue;
    auto parsed = records::parse_agent(kv.value);
    if (auto* a = std::get_if<records::AgentRecord>(&parsed)) out.emplace(*id, std::move(*a));
  }
  return out;
}

std::set<std::string> drained_ids(const CollectionRead& read) {
  std::set<std::string> out;
  for (const auto& kv : read.drains) {
    if (auto id = records::drained_id_of(kv.key)) out.insert(*id);
  }
  return out;
}

// Tasks held by each collector, and how many of them are moving away.
struct Load {
  int64_t tasks = 0;
  int64_t revoking = 0;
};

std::map<std::string, Load> loads(const CollectionRead& read) {
  std::map<std::string, Load> out;
  for (const auto& kv : read.assigns) {
    auto key = records::parse_assign_key(kv.key);
    if (!key) continue;
    Load& load = out[key->collector];
    ++load.tasks;
    auto parsed = records::parse_assignment(kv.value);
    if (auto* a = std::get_if<records::AssignmentRecord>(&parsed); a != nullptr && a->revoking) ++load.revoking;
  }
  return out;
}

json task_base(const records::TaskName& task) {
  json out = json::object();
  set_bytes(out, "task", task.id());
  set_bytes(out, "app", task.app);
  set_bytes(out, "topic", task.topic);
  set_bytes(out, "ip", task.ip);
  return out;
}

}  // namespace

client::TxnRequest collection_txn(int64_t limit) {
  client::TxnRequest txn;
  for (std::string_view prefix : kPrefixes) {
    client::RangeRequest r;
    r.key = std::string(prefix);
    r.range_end = client::prefix_range_end(r.key);
    r.limit = limit;
    txn.success.push_back(client::TxnOp{std::move(r)});
  }
  return txn;
}

bool collection_read_of(const client::TxnResult& txn, CollectionRead& read) {
  std::vector<client::KeyValue>* into[] = {&read.agents, &read.streams, &read.assigns, &read.checkpoints,
                                           &read.drains};
  if (txn.responses.size() != std::size(into)) return false;
  for (size_t i = 0; i < std::size(into); ++i) {
    auto* range = std::get_if<client::RangeResult>(&txn.responses[i].result);
    if (range == nullptr) return false;
    *into[i] = range->kvs;
    read.more = read.more || range->more;
  }
  read.revision = txn.header.revision;
  return true;
}

std::vector<int64_t> agent_leases(const CollectionRead& read, size_t max) {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (const auto& kv : read.agents) {
    if (out.size() >= max) break;
    if (kv.lease != 0 && seen.insert(kv.lease).second) out.push_back(kv.lease);
  }
  return out;
}

json agents_json(const CollectionRead& read, const std::map<int64_t, int64_t>& ttls) {
  const auto load = loads(read);
  const auto drained = drained_ids(read);
  json list = json::array();
  for (const auto& kv : read.agents) {
    auto id = records::agent_id_of(kv.key);
    if (!id) continue;
    json row = json::object();
    set_bytes(row, "id", *id);
    auto parsed = records::parse_agent(kv.value);
    if (auto* a = std::get_if<records::AgentRecord>(&parsed)) {
      row["host"] = a->host;
      row["ip"] = a->ip;
      row["endpoint"] = a->endpoint;
      row["roles"] = roles_json(*a);
      row["capacity"] = a->capacity;
      row["zone"] = a->zone();
      if (!a->labels.empty()) row["labels"] = a->labels;
      if (!a->version.empty()) row["version"] = a->version;
    } else {
      set_bytes(row, "problem", std::get<records::Problem>(parsed));
    }
    // The key lives as long as its lease: it is alive unless the lease is
    // known to have run out (it goes with the lease's expiry in apply).
    bool alive = true;
    if (kv.lease != 0) {
      row["lease"] = lease_hex(kv.lease);
      if (auto t = ttls.find(kv.lease); t != ttls.end()) {
        row["ttl"] = std::max<int64_t>(t->second, 0);
        alive = t->second > 0;
      }
    }
    row["alive"] = alive;
    auto l = load.find(*id);
    row["tasks"] = l == load.end() ? 0 : l->second.tasks;
    row["draining"] = drained.count(*id) > 0;
    row["revision"] = kv.mod_revision;
    list.push_back(std::move(row));
  }
  json out = {{"agents", std::move(list)}, {"revision", read.revision}};
  if (read.more) out["more"] = true;
  return out;
}

json tasks_json(const CollectionRead& read) {
  // One row per stream key; an assignment whose stream is gone gets a row
  // too (apply never leaves one; shown rather than hidden).
  std::map<std::string, json> rows;  // by task id: sorted output
  for (const auto& kv : read.streams) {
    auto task = records::task_of_stream_key(kv.key);
    if (!task) continue;
    json row = task_base(*task);
    auto parsed = records::parse_stream(kv.value);
    if (auto* s = std::get_if<records::StreamRecord>(&parsed)) {
      row["source"] = s->agent;
      row["sourceEndpoint"] = s->endpoint;
    } else {
      set_bytes(row, "problem", std::get<records::Problem>(parsed));
    }
    row["collector"] = nullptr;
    row["state"] = "unassigned";
    rows.emplace(task->id(), std::move(row));
  }
  for (const auto& kv : read.assigns) {
    auto key = records::parse_assign_key(kv.key);
    if (!key) continue;
    auto [it, fresh] = rows.try_emplace(key->task.id(), task_base(key->task));
    json& row = it->second;
    if (fresh) row["streamMissing"] = true;
    if (row.contains("collector") && !row["collector"].is_null()) {
      // A second assignment of one task (never left by apply): both are shown.
      row["alsoAssignedTo"].push_back(key->collector);
      continue;
    }
    set_bytes(row, "collector", key->collector);
    row["epoch"] = kv.create_revision;
    row["assignedRevision"] = kv.mod_revision;
    auto parsed = records::parse_assignment(kv.value);
    if (auto* a = std::get_if<records::AssignmentRecord>(&parsed)) {
      row["state"] = a->revoking ? "revoking" : "active";
      if (a->revoking) row["to"] = a->to;
    } else {
      row["state"] = "?";
      set_bytes(row, "assignmentProblem", std::get<records::Problem>(parsed));
    }
  }
  for (const auto& kv : read.checkpoints) {
    auto task = records::task_of_checkpoint_key(kv.key);
    if (!task) continue;
    auto it = rows.find(task->id());
    if (it == rows.end()) continue;
    auto parsed = records::parse_checkpoint(kv.value);
    auto* c = std::get_if<records::CheckpointRecord>(&parsed);
    if (c == nullptr) continue;
    it->second["checkpoint"] = {{"file", c->file}, {"offset", c->offset}, {"lines", c->lines},
                                {"collector", c->collector}};
    if (c->end >= c->offset) it->second["lag"] = c->end - c->offset;
  }
  json tasks = json::array();
  for (auto& [id, row] : rows) tasks.push_back(std::move(row));

  // Every collector: the agents with that role (idle ones included), and
  // any owner of an assignment without such an agent record.
  const auto agents = parsed_agents(read);
  const auto load = loads(read);
  const auto drained = drained_ids(read);
  std::set<std::string> collectors;
  for (const auto& [id, a] : agents) {
    if (a.collector) collectors.insert(id);
  }
  for (const auto& [id, l] : load) collectors.insert(id);
  json list = json::array();
  for (const auto& id : collectors) {
    json c = json::object();
    set_bytes(c, "id", id);
    auto l = load.find(id);
    c["tasks"] = l == load.end() ? 0 : l->second.tasks;
    c["revoking"] = l == load.end() ? 0 : l->second.revoking;
    auto a = agents.find(id);
    c["registered"] = a != agents.end();
    if (a != agents.end()) c["capacity"] = a->second.capacity;
    c["draining"] = drained.count(id) > 0;
    list.push_back(std::move(c));
  }
  json out = {{"tasks", std::move(tasks)}, {"collectors", std::move(list)}, {"revision", read.revision}};
  if (read.more) out["more"] = true;
  return out;
}

}  // namespace corral::http
