#include "schema/log_records.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace corral::schema::records {

using nlohmann::json;

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Splits `s` on '/' into exactly `n` non-empty parts.
std::optional<std::vector<std::string_view>> split_exact(std::string_view s, size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() < n) {
    auto slash = s.find('/');
    auto part = s.substr(0, slash);
    if (part.empty()) return std::nullopt;
    parts.push_back(part);
    if (slash == std::string_view::npos) {
      s = {};
      break;
    }
    s = s.substr(slash + 1);
    if (s.empty()) return std::nullopt;
  }
  if (parts.size() != n || !s.empty()) return std::nullopt;
  return parts;
}

std::optional<TaskName> task_from_parts(std::string_view app, std::string_view topic, std::string_view ip) {
  if (!valid_id(app) || !valid_id(topic) || !valid_ip(ip)) return std::nullopt;
  return TaskName{std::string(app), std::string(topic), std::string(ip)};
}

// Reads a JSON object field by field, remembering the first problem; every
// field must be taken, so that what is left over is unknown.
class Fields {
 public:
  Fields(std::string_view what, std::string_view text) : what_(what) {
    doc_ = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc_.is_discarded()) {
      problem_ = std::string(what_) + ": not valid JSON";
    } else if (!doc_.is_object()) {
      problem_ = std::string(what_) + ": must be a JSON object";
    }
  }
  bool ok() const { return problem_.empty(); }
  const Problem& problem() const { return problem_; }

  std::string text(const char* name, bool required, size_t max_bytes) {
    auto* v = take(name, required);
    if (v == nullptr) return {};
    if (!v->is_string()) return fail(name, "must be a string"), std::string();
    auto s = v->get<std::string>();
    if (s.size() > max_bytes) return fail(name, "longer than " + std::to_string(max_bytes) + " bytes"), std::string();
    return s;
  }
  std::optional<int64_t> integer(const char* name, bool required, int64_t lo, int64_t hi) {
    auto* v = take(name, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX)) {
      return fail(name, "must be an integer"), std::nullopt;
    }
    auto n = v->get<int64_t>();
    if (n < lo || n > hi) {
      return fail(name, "must be in " + std::to_string(lo) + ".." + std::to_string(hi)), std::nullopt;
    }
    return n;
  }
  std::vector<std::string> strings(const char* name, bool required, size_t max_items) {
    std::vector<std::string> out;
    auto* v = take(name, required);
    if (v == nullptr) return out;
    if (!v->is_array() || v->size() > max_items) {
      return fail(name, "must be an array of at most " + std::to_string(max_items) + " strings"), out;
    }
    for (const auto& item : *v) {
      if (!item.is_string() || item.get_ref<const std::string&>().size() > kMaxTextBytes) {
        return fail(name, "must hold strings of at most " + std::to_string(kMaxTextBytes) + " bytes"), out;
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  std::map<std::string, std::string> string_map(const char* name, size_t max_items) {
    std::map<std::string, std::string> out;
    auto* v = take(name, false);
    if (v == nullptr) return out;
    if (!v->is_object() || v->size() > max_items) {
      return fail(name, "must be an object of at most " + std::to_string(max_items) + " strings"), out;
    }
    for (const auto& [k, item] : v->items()) {
      if (!valid_id(k) || !item.is_string() || item.get_ref<const std::string&>().size() > kMaxTextBytes) {
        return fail(name, "must map ids to strings of at most " + std::to_string(kMaxTextBytes) + " bytes"), out;
      }
      out[k] = item.get<std::string>();
    }
    return out;
  }
  const json* raw(const char* name, bool required) { return take(name, required); }
  void fail(std::string_view field, std::string_view why) {
    if (problem_.empty()) problem_ = std::string(what_) + ": field '" + std::string(field) + "' " + std::string(why);
  }
  // Call last: names the first field nobody took.
  Problem finish() {
    if (!problem_.empty()) return problem_;
    for (const auto& [k, v] : doc_.items()) {
      if (!taken_.count(k)) return std::string(what_) + ": unknown field '" + k + "'";
    }
    return {};
  }

 private:
  const json* take(const char* name, bool required) {
    if (!problem_.empty()) return nullptr;
    taken_.insert(name);
    auto it = doc_.find(name);
    if (it == doc_.end() || it->is_null()) {
      if (required) fail(name, "is required");
      return nullptr;
    }
    return &*it;
  }
  std::string what_;
  json doc_;
  Problem problem_;
  std::set<std::string> taken_;
};

bool valid_endpoint(std::string_view e) {
  if (!starts_with(e, "tcp://")) return false;
  auto rest = e.substr(6);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
  for (char c : rest.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
  }
  return rest.size() <= kMaxTextBytes;
}

std::string endpoint_field(Fields& f, const char* name, bool required) {
  auto e = f.text(name, required, kMaxTextBytes);
  if (!e.empty() && !valid_endpoint(e)) f.fail(name, "must be tcp://HOST:PORT");
  return e;
}

}  // namespace

bool is_stream_shaped(std::string_view key) {
  if (!starts_with(key, kStreamsPrefix)) return false;
  auto rest = key.substr(kStreamsPrefix.size());
  return std::count(rest.begin(), rest.end(), '/') == 2 && !rest.empty() && rest.back() != '/';
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    if (!id_char(c)) return false;
  }
  return true;
}

bool valid_ip(std::string_view ip) {
  if (ip.empty() || ip.size() > kMaxIpBytes) return false;
  for (char c : ip) {
    if (!id_char(c) && c != ':') return false;
  }
  return true;
}

std::string AgentRecord::zone() const {
  auto it = labels.find("zone");
  return it == labels.end() ? std::string() : it->second;
}

std::string agent_key(std::string_view agent_id) { return std::string(kAgentsPrefix).append(agent_id); }
std::string stream_key(const TaskName& t) { return std::string(kStreamsPrefix) + t.id(); }
std::string assign_prefix(std::string_view collector_id) {
  return std::string(kAssignPrefix).append(collector_id).append("/");
}
std::string assign_key(std::string_view collector_id, const TaskName& t) {
  return assign_prefix(collector_id) + t.id();
}
std::string checkpoint_key(const TaskName& t) { return std::string(kCheckpointsPrefix) + t.id(); }
std::string drain_key(std::string_view collector_id) { return std::string(kDrainPrefix).append(collector_id); }

std::optional<std::string> agent_id_of(std::string_view key) {
  if (!starts_with(key, kAgentsPrefix)) return std::nullopt;
  auto id = key.substr(kAgentsPrefix.size());
  if (!valid_id(id)) return std::nullopt;
  return std::string(id);
}

std::optional<std::string> drained_id_of(std::string_view key) {
  if (!starts_with(key, kDrainPrefix)) return std::nullopt;
  auto id = key.substr(kDrainPrefix.size());
  if (!valid_id(id)) return std::nullopt;
  return std::string(id);
}

std::optional<TaskName> parse_task(std::string_view id) {
  auto parts = split_exact(id, 3);
  if (!parts) return std::nullopt;
  return task_from_parts((*parts)[0], (*parts)[1], (*parts)[2]);
}

std::optional<TaskName> task_of_stream_key(std::string_view key) {
  if (!starts_with(key, kStreamsPrefix)) return std::nullopt;
  return parse_task(key.substr(kStreamsPrefix.size()));
}

std::optional<TaskName> task_of_checkpoint_key(std::string_view key) {
  if (!starts_with(key, kCheckpointsPrefix)) return std::nullopt;
  return parse_task(key.substr(kCheckpointsPrefix.size()));
}

std::optional<AssignKey> parse_assign_key(std::string_view key) {
  if (!starts_with(key, kAssignPrefix)) return std::nullopt;
  auto parts = split_exact(key.substr(kAssignPrefix.size()), 4);
  if (!parts || !valid_id((*parts)[0])) return std::nullopt;
  auto task = task_from_parts((*parts)[1], (*parts)[2], (*parts)[3]);
  if (!task) return std::nullopt;
  return AssignKey{std::string((*parts)[0]), *task};
}

std::variant<AgentRecord, Problem> parse_agent(std::string_view text) {
  Fields f("agent record", text);
  AgentRecord r;
  if (!f.ok()) return f.problem();
  r.ip = f.text("ip", true, kMaxIpBytes);
  if (f.ok() && !valid_ip(r.ip)) f.fail("ip", "must be an address or host name ([0-9A-Za-z.:_-])");
  auto roles = f.strings("roles", true, 2);
  if (f.ok() && roles.empty()) f.fail("roles", "must name at least one of \"source\", \"collector\"");
  for (const auto& role : roles) {
    bool& flag = role == "source" ? r.source : r.collector;
    if ((role != "source" && role != "collector") || flag) {
      f.fail("roles", "must hold \"source\" and/or \"collector\", each once");
      break;
    }
    flag = true;
  }
  r.endpoint = endpoint_field(f, "endpoint", f.ok() && r.source);
  r.host = f.text("host", false, kMaxTextBytes);
  r.capacity = f.integer("capacity", false, 1, kMaxCapacity).value_or(1);
  r.labels = f.string_map("labels", kMaxLabels);
  r.version = f.text("version", false, 64);
  auto problem = f.finish();
  if (!problem.empty()) return problem;
  return r;
}

std::variant<StreamRecord, Problem> parse_stream(std::string_view text) {
  Fields f("stream record", text);
  StreamRecord r;
  if (!f.ok()) return f.problem();
  r.agent = f.text("agent", true, kMaxIdBytes);
  if (f.ok() && !valid_id(r.agent)) f.fail("agent", "must be an agent id ([A-Za-z0-9._-], 1..128 bytes)");
  r.endpoint = endpoint_field(f, "endpoint", true);
  r.paths = f.strings("paths", false, kMaxPaths);
  r.zone = f.text("zone", false, kMaxTextBytes);
  auto problem = f.finish();
  if (!problem.empty()) return problem;
  return r;
}

std::variant<AssignmentRecord, Problem> parse_assignment(std::string_view text) {
  Fields f("assignment", text);
  AssignmentRecord r;
  if (!f.ok()) return f.problem();
  r.stream = f.text("stream", true, kMaxTextBytes);
  r.agent = f.text("agent", true, kMaxIdBytes);
  r.endpoint = f.text("endpoint", true, kMaxTextBytes);
  auto state = f.text("state", true, 16);
  if (f.ok() && state != "active" && state != "revoking") f.fail("state", "must be \"active\" or \"revoking\"");
  r.revoking = state == "revoking";
  r.to = f.text("to", r.revoking, kMaxIdBytes);
  r.epoch = f.integer("epoch", true, 1, INT64_MAX).value_or(0);
  auto problem = f.finish();
  if (!problem.empty()) return problem;
  return r;
}

std::variant<CheckpointRecord, Problem> parse_checkpoint(std::string_view text) {
  Fields f("checkpoint", text);
  CheckpointRecord r;
  if (!f.ok()) return f.problem();
  r.file = f.text("file", true, kMaxFileIdBytes);
  r.offset = f.integer("offset", true, 0, INT64_MAX).value_or(0);
  r.end = f.integer("end", false, 0, INT64_MAX).value_or(0);
  r.epoch = f.integer("epoch", true, 1, INT64_MAX).value_or(0);
  r.collector = f.text("collector", true, kMaxIdBytes);
  if (f.ok() && !valid_id(r.collector)) f.fail("collector", "must be an agent id");
  r.lines = f.integer("lines", false, 0, INT64_MAX).value_or(0);
  auto problem = f.finish();
  if (!problem.empty()) return problem;
  return r;
}

// nlohmann's ordered_json keeps insertion order, so the bytes are fixed.
std::string encode_agent(const AgentRecord& r) {
  nlohmann::ordered_json j;
  if (!r.host.empty()) j["host"] = r.host;
  j["ip"] = r.ip;
  if (!r.endpoint.empty()) j["endpoint"] = r.endpoint;
  auto roles = nlohmann::ordered_json::array();
  if (r.source) roles.push_back("source");
  if (r.collector) roles.push_back("collector");
  j["roles"] = roles;
  j["capacity"] = r.capacity;
  if (!r.labels.empty()) j["labels"] = r.labels;
  if (!r.version.empty()) j["version"] = r.version;
  return j.dump();
}

std::string encode_stream(const StreamRecord& r) {
  nlohmann::ordered_json j;
  j["agent"] = r.agent;
  j["endpoint"] = r.endpoint;
  if (!r.paths.empty()) j["paths"] = r.paths;
  if (!r.zone.empty()) j["zone"] = r.zone;
  return j.dump();
}

std::string encode_assignment(const AssignmentRecord& r) {
  nlohmann::ordered_json j;
  j["stream"] = r.stream;
  j["agent"] = r.agent;
  j["endpoint"] = r.endpoint;
  j["state"] = r.revoking ? "revoking" : "active";
  if (r.revoking) j["to"] = r.to;
  j["epoch"] = r.epoch;
  return j.dump();
}

std::string encode_checkpoint(const CheckpointRecord& r) {
  nlohmann::ordered_json j;
  j["file"] = r.file;
  j["offset"] = r.offset;
  j["end"] = r.end;
  j["epoch"] = r.epoch;
  j["collector"] = r.collector;
  j["lines"] = r.lines;
  return j.dump();
}

Problem check_client_put(std::string_view key, std::string_view value) {
  auto named = [&](const Problem& p) { return std::string(key) + ": " + p; };
  if (starts_with(key, kAssignPrefix)) {
    return std::string(key) + ": assignments are written by the coordinator (a collector releases a task by deleting its key)";
  }
  if (starts_with(key, kAgentsPrefix)) {
    if (!agent_id_of(key)) return named("an agent key is /corral/agents/<agent-id>, an id of [A-Za-z0-9._-]");
    auto r = parse_agent(value);
    return std::holds_alternative<Problem>(r) ? named(std::get<Problem>(r)) : Problem();
  }
  if (is_stream_shaped(key)) {
    if (!task_of_stream_key(key)) {
      return named("a stream key /apps/<app>/<topic>/<machine-ip> takes ids of [A-Za-z0-9._-] (and ':' in the ip)");
    }
    auto r = parse_stream(value);
    return std::holds_alternative<Problem>(r) ? named(std::get<Problem>(r)) : Problem();
  }
  if (starts_with(key, kCheckpointsPrefix)) {
    if (!task_of_checkpoint_key(key)) return named("a checkpoint key is /corral/checkpoints/<app>/<topic>/<machine-ip>");
    auto r = parse_checkpoint(value);
    return std::holds_alternative<Problem>(r) ? named(std::get<Problem>(r)) : Problem();
  }
  if (starts_with(key, kDrainPrefix) && !drained_id_of(key)) {
    return named("a drain key is /corral/drain/<collector-id>");
  }
  return {};
}

}  // namespace corral::schema::records
