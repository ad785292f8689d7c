// corralctl's views of log collection (schema/records.md): pure functions
// that turn key-space reads into rows, so that every rule (who holds what,
// what is draining, a record that does not parse) is testable without a
// cluster. A record that does not parse becomes a row with its problem, shown
// as "?", never an error of the whole command: one bad value must not hide
// the rest of the cluster from the operator.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/types.h"
#include "schema/log_records.h"

namespace corral::cli {

namespace records = corral::schema::records;
using client::KeyValue;

// A stored value as a record: absent, unparsable (problem set) or parsed.
template <class Record>
struct Parsed {
  bool present = false;
  std::optional<Record> value;
  std::string problem;
  bool bad() const { return present && !value; }
};

// --- corralctl agents ----------------------------------------------------------

// Where the lease's remaining time stands.
enum class LeaseTtlState : uint8_t {
  kNoLease,   // the key has no lease: "-"
  kUnknown,   // not looked up (over the bound) or the lookup failed: "?"
  kExpired,   // the lease is gone: "expired"
  kKnown,     // lease_ttl seconds left
};

struct AgentRow {
  std::string id;
  Parsed<records::AgentRecord> record;
  int64_t lease = 0;
  LeaseTtlState ttl_state = LeaseTtlState::kNoLease;
  int64_t lease_ttl = 0;  // kKnown only
  int64_t tasks = 0;      // assignment keys under /corral/assign/<id>/
  bool draining = false;  // /corral/drain/<id> exists
};

// One row per /corral/agents/<id> key (by id), from the three prefix reads.
// Keys that are not agent, assignment or drain keys are skipped.
std::vector<AgentRow> agent_rows(const std::vector<KeyValue>& agents, const std::vector<KeyValue>& assigns,
                                 const std::vector<KeyValue>& drains);
// The distinct leases of `rows`, in row order, at most `max` of them: the
// lookups corralctl makes (one round trip each, so they are bounded).
std::vector<int64_t> leases_to_look_up(const std::vector<AgentRow>& rows, size_t max);
// Sets every leased row's TTL from `ttls` (lease -> seconds left, < 0 for
// expired); a lease missing from `ttls` stays unknown.
void apply_lease_ttls(std::vector<AgentRow>& rows, const std::map<int64_t, int64_t>& ttls);

std::vector<std::string> agent_head();
std::vector<std::string> agent_cells(const AgentRow& row);

// --- corralctl tasks ------------------------------------------------------------

struct TaskRow {
  records::TaskName task;
  bool has_stream = true;  // false: an assignment whose stream key is gone
  std::string collector;   // the assignment key's owner; empty: unassigned
  Parsed<records::AssignmentRecord> assignment;
  int64_t epoch = 0;  // the assignment key's create_revision
  Parsed<records::CheckpointRecord> checkpoint;
  bool assigned() const { return !collector.empty(); }
  // end - offset, when the checkpoint knows the source's end.
  std::optional<int64_t> lag() const;
  // "unassigned", "active", "revoking" or "?" (the assignment does not parse).
  std::string state() const;
};

struct TaskFilter {
  std::string collector, app, topic;  // empty: any
  bool matches(const TaskRow& row) const;
};

// One row per stream key (exactly three valid segments below /apps/), plus
// one per assignment key whose stream is gone (a state apply should never
// leave, shown rather than hidden). A task with two assignment keys (also
// never left by apply) gets a row for each. Sorted by task, then collector.
std::vector<TaskRow> task_rows(const std::vector<KeyValue>& streams, const std::vector<KeyValue>& assigns,
                               const std::vector<KeyValue>& checkpoints);
std::vector<TaskRow> filter_rows(std::vector<TaskRow> rows, const TaskFilter& filter);

std::vector<std::string> task_head();
std::vector<std::string> task_cells(const TaskRow& row);

// --- corralctl collector drain|undrain ------------------------------------------

struct DrainOutcome {
  std::string collector;
  bool draining = false;      // the state now: drained (true) or undrained
  bool was_draining = false;  // the drain key existed before
  bool registered = false;    // an agent record with the collector role exists
  int64_t tasks = 0;          // assignment keys it holds now
  int64_t revoking = 0;       // of those, marked to move away
  int64_t revision = 0;
};
std::string drain_message(const DrainOutcome& o);
// Whether `kvs` (a read of /corral/agents/<id>) is a collector's record.
bool is_registered_collector(const std::vector<KeyValue>& kvs);
// How many of `assigns` (assignment keys) are marked revoking.
int64_t count_revoking(const std::vector<KeyValue>& assigns);

}  // namespace corral::cli
