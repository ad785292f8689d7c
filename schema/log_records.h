// The log-collection records of the key space: their keys and their JSON
// values, as schema/records.md describes them. Shared by apply (which
// validates every put under these prefixes), the client library, the agent
// and corralctl, so each side parses and writes the same bytes.
//
// Errors are plain messages naming the key and the field; each side wraps
// them in its own typed error (badRequest).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace corral::schema::records {

inline constexpr std::string_view kAgentsPrefix = "/corral/agents/";
inline constexpr std::string_view kStreamsPrefix = "/apps/";
inline constexpr std::string_view kAssignPrefix = "/corral/assign/";
inline constexpr std::string_view kCheckpointsPrefix = "/corral/checkpoints/";
inline constexpr std::string_view kDrainPrefix = "/corral/drain/";
inline constexpr std::string_view kRebalanceKey = "/corral/rebalance";

inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxIpBytes = 64;
inline constexpr size_t kMaxTextBytes = 256;
inline constexpr size_t kMaxLabels = 16;
inline constexpr size_t kMaxPaths = 64;
inline constexpr size_t kMaxFileIdBytes = 128;
inline constexpr int64_t kMaxCapacity = 1000000;

// A message naming what is wrong; empty means valid.
using Problem = std::string;

// "<app>/<topic>/<machine-ip>": one stream, one collection task.
struct TaskName {
  std::string app, topic, ip;
  std::string id() const { return app + "/" + topic + "/" + ip; }
  bool operator==(const TaskName&) const = default;
};

struct AgentRecord {
  std::string host;
  std::string ip;
  std::string endpoint;
  bool source = false;
  bool collector = false;
  int64_t capacity = 1;
  std::map<std::string, std::string> labels;
  std::string version;
  std::string zone() const;
};

struct StreamRecord {
  std::string agent;
  std::string endpoint;
  std::vector<std::string> paths;
  std::string zone;
};

struct AssignmentRecord {
  std::string stream;  // the stream key
  std::string agent;
  std::string endpoint;
  bool revoking = false;
  std::string to;  // set iff revoking
  int64_t epoch = 0;
};

struct CheckpointRecord {
  std::string file;
  int64_t offset = 0;
  int64_t end = 0;
  int64_t epoch = 0;
  std::string collector;
  int64_t lines = 0;
};

bool valid_id(std::string_view id);
// A key of three segments below /apps/: a stream key, whose value must be a
// stream record. Other keys under /apps/ are ordinary keys.
bool is_stream_shaped(std::string_view key);
bool valid_ip(std::string_view ip);

// Keys.
std::string agent_key(std::string_view agent_id);
std::string stream_key(const TaskName& task);
std::string assign_key(std::string_view collector_id, const TaskName& task);
std::string assign_prefix(std::string_view collector_id);  // ends with '/'
std::string checkpoint_key(const TaskName& task);
std::string drain_key(std::string_view collector_id);
// The id part of /corral/agents/<id> (or /corral/drain/<id>), if the key is one.
std::optional<std::string> agent_id_of(std::string_view key);
std::optional<std::string> drained_id_of(std::string_view key);
std::optional<TaskName> parse_task(std::string_view id);  // "<app>/<topic>/<ip>"
std::optional<TaskName> task_of_stream_key(std::string_view key);
std::optional<TaskName> task_of_checkpoint_key(std::string_view key);
struct AssignKey {
  std::string collector;
  TaskName task;
};
std::optional<AssignKey> parse_assign_key(std::string_view key);

// Values. parse_* accept exactly the documented schema (unknown fields are
// refused); encode_* write compact JSON with the fields in a fixed order.
std::variant<AgentRecord, Problem> parse_agent(std::string_view json);
std::variant<StreamRecord, Problem> parse_stream(std::string_view json);
std::variant<AssignmentRecord, Problem> parse_assignment(std::string_view json);
std::variant<CheckpointRecord, Problem> parse_checkpoint(std::string_view json);
std::string encode_agent(const AgentRecord& r);
std::string encode_stream(const StreamRecord& r);
std::string encode_assignment(const AssignmentRecord& r);
std::string encode_checkpoint(const CheckpointRecord& r);

// Whether a client may put `value` at `key`: keys outside the log-collection
// prefixes are not looked at; under them the key's shape and the value's
// schema are checked, and /corral/assign/ is refused (apply writes it).
Problem check_client_put(std::string_view key, std::string_view value);

}  // namespace corral::schema::records
