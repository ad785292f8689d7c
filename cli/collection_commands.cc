#include "cli/collection_commands.h"

#include <cstdio>
#include <future>
#include <map>
#include <string_view>
#include <vector>

#include "cli/collection_view.h"

namespace corral::cli {

using namespace corral::client;
namespace records = corral::schema::records;

namespace {

// `agents` looks up at most this many leases (one request each); past it the
// TTL shows "?", so that a huge fleet does not cost a huge number of requests.
constexpr size_t kMaxLeaseLookups = 1000;
// Operator requests carry who made them, for whoever reads the key later.
constexpr const char* kDrainValue = R"({"by":"corralctl"})";
constexpr const char* kRebalanceValue = R"({"requested":true,"by":"corralctl"})";

// Every key under `prefix` at `revision` (0: the latest): the views read each
// prefix at the revision of their first read, so they show one state.
Result<RangeResult> read_prefix(Client& client, std::string_view prefix, int64_t revision) {
  RangeRequest r;
  r.key = std::string(prefix);
  r.range_end = prefix_range_end(r.key);
  r.revision = revision;
  return client.call(std::move(r));
}

// Seconds left of each lease (-1: expired), looked up in parallel; a lookup
// that fails is left out (the row shows "?").
std::map<int64_t, int64_t> lease_ttls(Client& client, const std::vector<int64_t>& leases) {
  std::vector<std::future<Result<LeaseTtlResult>>> pending;
  for (int64_t id : leases) {
    LeaseTtlRequest r;
    r.id = id;
    pending.push_back(client.call_future(r));
  }
  std::map<int64_t, int64_t> ttls;
  for (size_t i = 0; i < pending.size(); ++i) {
    auto res = pending[i].get();
    if (res.ok()) ttls[leases[i]] = res->ttl_seconds;
  }
  return ttls;
}

int show_agents(Client& client, Printer& out) {
  auto agents = read_prefix(client, records::kAgentsPrefix, 0);
  if (!agents.ok()) return fail(agents.error());
  const int64_t rev = agents->header.revision;
  auto assigns = read_prefix(client, records::kAssignPrefix, rev);
  if (!assigns.ok()) return fail(assigns.error());
  auto drains = read_prefix(client, records::kDrainPrefix, rev);
  if (!drains.ok()) return fail(drains.error());
  auto rows = agent_rows(agents->kvs, assigns->kvs, drains->kvs);
  apply_lease_ttls(rows, lease_ttls(client, leases_to_look_up(rows, kMaxLeaseLookups)));
  out.agents(agents->header, rows);
  return kExitOk;
}

// Filters narrow the reads where a prefix allows it (an app, its topic, a
// collector); the rows are filtered all the same.
int show_tasks(Client& client, Printer& out, const TaskFilter& filter) {
  std::string streams_prefix(records::kStreamsPrefix), checkpoints_prefix(records::kCheckpointsPrefix);
  if (!filter.app.empty()) {
    const std::string narrow = filter.app + "/" + (filter.topic.empty() ? "" : filter.topic + "/");
    streams_prefix += narrow;
    checkpoints_prefix += narrow;
  }
  const std::string assign_prefix = filter.collector.empty() ? std::string(records::kAssignPrefix)
                                                             : records::assign_prefix(filter.collector);
  auto streams = read_prefix(client, streams_prefix, 0);
  if (!streams.ok()) return fail(streams.error());
  const int64_t rev = streams->header.revision;
  auto assigns = read_prefix(client, assign_prefix, rev);
  if (!assigns.ok()) return fail(assigns.error());
  auto checkpoints = read_prefix(client, checkpoints_prefix, rev);
  if (!checkpoints.ok()) return fail(checkpoints.error());
  out.tasks(streams->header, filter_rows(task_rows(streams->kvs, assigns->kvs, checkpoints->kvs), filter));
  return kExitOk;
}

// Puts (drain) or deletes (undrain) /corral/drain/<id>; says whether the
// key was there before.
Result<Header> set_drain_mark(Client& client, const std::string& id, bool drain, bool& was_draining) {
  if (drain) {
    PutRequest r;
    r.key = records::drain_key(id);
    r.value = kDrainValue;
    r.prev_kv = true;
    auto res = client.call(std::move(r));
    if (!res.ok()) return res.error();
    was_draining = res->has_prev_kv;
    return res->header;
  }
  DeleteRequest r;
  r.key = records::drain_key(id);
  auto res = client.call(std::move(r));
  if (!res.ok()) return res.error();
  was_draining = res->deleted > 0;
  return res->header;
}

// Changes the drain mark, then reads what the collector holds at that
// revision to say what happens next.
int change_drain(Client& client, Printer& out, const std::string& id, bool drain) {
  DrainOutcome o;
  o.collector = id;
  o.draining = drain;
  auto header = set_drain_mark(client, id, drain, o.was_draining);
  if (!header.ok()) return fail(header.error());
  o.revision = header->revision;
  RangeRequest held;
  held.key = records::assign_prefix(id);
  held.range_end = prefix_range_end(held.key);
  held.revision = o.revision;
  auto tasks = client.call(std::move(held));
  if (!tasks.ok()) return fail(tasks.error());
  o.tasks = tasks->count;
  o.revoking = count_revoking(tasks->kvs);
  RangeRequest record;
  record.key = records::agent_key(id);
  record.revision = o.revision;
  auto agent = client.call(std::move(record));
  if (!agent.ok()) return fail(agent.error());
  o.registered = is_registered_collector(agent->kvs);
  out.drain(header.value(), o);
  return kExitOk;
}

int request_rebalance(Client& client, Printer& out) {
  auto res = client.put(std::string(records::kRebalanceKey), kRebalanceValue);
  if (!res.ok()) return fail(res.error());
  out.rebalance(res->header);
  return kExitOk;
}

// An id given on the command line, checked before anything is sent.
bool usable_id(const std::string& what, const std::string& id) {
  if (id.empty() || records::valid_id(id)) return true;
  std::fprintf(stderr, "Error: %s '%s' is not an id of 1..%zu bytes of [A-Za-z0-9._-]\n", what.c_str(),
               id.c_str(), records::kMaxIdBytes);
  return false;
}

}  // namespace

CollectionCommands add_collection_commands(CLI::App& app, CollectionArgs& a) {
  CollectionCommands c;
  c.agents = app.add_subcommand("agents", "agents: every registered agent, its lease and its tasks");
  c.tasks = app.add_subcommand("tasks", "tasks: every stream, its collector and its progress");
  c.tasks->add_option("--collector", a.collector, "only the tasks this collector holds");
  c.tasks->add_option("--app", a.app, "only this app's streams");
  c.tasks->add_option("--topic", a.topic, "only this topic's streams");
  auto* collector = app.add_subcommand("collector", "collector drain|undrain ID");
  collector->require_subcommand(1);
  collector->fallthrough();
  c.drain = collector->add_subcommand("drain", "drain ID: its tasks move away, it gets no new one");
  c.drain->add_option("id", a.collector)->required();
  c.undrain = collector->add_subcommand("undrain", "undrain ID: it can be given tasks again");
  c.undrain->add_option("id", a.collector)->required();
  c.rebalance = app.add_subcommand("rebalance", "rebalance: one balancing pass over the collectors");
  return c;
}

bool check_collection_args(const CollectionCommands& c, const CollectionArgs& a) {
  return usable_id(*c.tasks ? "--collector" : "collector", a.collector) && usable_id("--app", a.app) &&
         usable_id("--topic", a.topic);
}

int run_collection(const CollectionCommands& c, const CollectionArgs& a, CommandContext& ctx) {
  if (*c.agents) return show_agents(ctx.client, ctx.out);
  if (*c.tasks) return show_tasks(ctx.client, ctx.out, TaskFilter{a.collector, a.app, a.topic});
  if (*c.drain || *c.undrain) return change_drain(ctx.client, ctx.out, a.collector, c.drain->parsed());
  return request_rebalance(ctx.client, ctx.out);
}

}  // namespace corral::cli
