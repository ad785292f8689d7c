#include "cli/output.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "cli/range_view.h"

namespace corral::client {

std::string hex_id(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 10) return std::to_string(bytes) + " B";
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1000 && unit + 1 < std::size(kUnits)) {
    v /= 1000;
    ++unit;
  }
  // Whole numbers from 10 up, one decimal below, as go-humanize rounds.
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

std::string json_string(const std::string& bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[7];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

namespace {
std::string num(int64_t v) { return std::to_string(v); }
std::string unum(uint64_t v) { return std::to_string(v); }

std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_string(items[i]);
  return out + "]";
}

// A record that does not parse shows its fields as null and says why.
std::string agent_json(const cli::AgentRow& row) {
  std::string out = "{\"id\":" + json_string(row.id);
  if (const auto& r = row.record.value) {
    std::vector<std::string> roles;
    if (r->source) roles.push_back("source");
    if (r->collector) roles.push_back("collector");
    std::string labels;
    for (const auto& [k, v] : r->labels) labels += (labels.empty() ? "" : ",") + json_string(k) + ":" + json_string(v);
    out += ",\"host\":" + json_string(r->host) + ",\"ip\":" + json_string(r->ip) +
           ",\"endpoint\":" + json_string(r->endpoint) + ",\"roles\":" + json_strings(roles) +
           ",\"capacity\":" + num(r->capacity) + ",\"labels\":{" + labels + "}" +
           ",\"version\":" + json_string(r->version);
  } else {
    out += ",\"host\":null,\"ip\":null,\"endpoint\":null,\"roles\":null,\"capacity\":null,"
           "\"labels\":null,\"version\":null,\"error\":" +
           json_string(row.record.problem);
  }
  // lease_ttl: seconds left, -1 once expired, null when there is no lease or
  // it was not looked up.
  const bool ttl_known = row.ttl_state == cli::LeaseTtlState::kKnown ||
                         row.ttl_state == cli::LeaseTtlState::kExpired;
  out += ",\"lease\":" + num(row.lease) + ",\"lease_ttl\":" + (ttl_known ? num(row.lease_ttl) : "null") +
         ",\"tasks\":" + num(row.tasks) + ",\"draining\":" + (row.draining ? "true" : "false") + "}";
  return out;
}

std::string checkpoint_json(const cli::TaskRow& row) {
  if (!row.checkpoint.present) return "null";
  const auto& cp = row.checkpoint.value;
  if (!cp) return "{\"error\":" + json_string(row.checkpoint.problem) + "}";
  return "{\"file\":" + json_string(cp->file) + ",\"offset\":" + num(cp->offset) + ",\"end\":" + num(cp->end) +
         ",\"epoch\":" + num(cp->epoch) + ",\"collector\":" + json_string(cp->collector) +
         ",\"lines\":" + num(cp->lines) + "}";
}

std::string task_json(const cli::TaskRow& row) {
  const bool assigned = row.assigned();
  const auto& a = row.assignment.value;
  std::string out = "{\"task\":" + json_string(row.task.id()) + ",\"app\":" + json_string(row.task.app) +
                    ",\"topic\":" + json_string(row.task.topic) + ",\"ip\":" + json_string(row.task.ip) +
                    ",\"stream_exists\":" + (row.has_stream ? "true" : "false") +
                    ",\"collector\":" + (assigned ? json_string(row.collector) : "null") +
                    ",\"state\":" + (row.state() == "?" ? "null" : json_string(row.state())) +
                    ",\"to\":" + (a && a->revoking ? json_string(a->to) : "null") +
                    ",\"epoch\":" + (assigned ? num(row.epoch) : "null");
  if (row.assignment.bad()) out += ",\"error\":" + json_string(row.assignment.problem);
  const auto lag = row.lag();
  out += ",\"checkpoint\":" + checkpoint_json(row) + ",\"lag\":" + (lag ? num(*lag) : "null") + "}";
  return out;
}
}  // namespace

std::string Printer::header_json(const Header& h) const {
  return "{\"cluster_id\":" + unum(h.cluster_id) + ",\"member_id\":" + unum(h.member_id) +
         ",\"revision\":" + num(h.revision) + ",\"raft_term\":" + unum(h.raft_term) + "}";
}

std::string Printer::kv_json(const KeyValue& kv) const {
  return "{\"key\":" + json_string(kv.key) + ",\"create_revision\":" + num(kv.create_revision) +
         ",\"mod_revision\":" + num(kv.mod_revision) + ",\"version\":" + num(kv.version) +
         ",\"value\":" + json_string(kv.value) + ",\"lease\":" + num(kv.lease) + "}";
}

void Printer::table(const std::vector<std::string>& head,
                    const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(head.size());
  for (size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto rule = [&] {
    out_ << '+';
    for (size_t w : width) out_ << std::string(w + 2, '-') << '+';
    out_ << '\n';
  };
  auto print = [&](const std::vector<std::string>& row) {
    out_ << '|';
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : std::string();
      out_ << ' ' << cell << std::string(width[i] - cell.size() + 1, ' ') << '|';
    }
    out_ << '\n';
  };
  rule();
  print(head);
  rule();
  for (const auto& row : rows) print(row);
  rule();
}

void Printer::put(const PutResult& r) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(r.header);
    if (r.has_prev_kv) out_ << ",\"prev_kv\":" << kv_json(r.prev_kv);
    out_ << "}\n";
    return;
  }
  out_ << "OK\n";
  if (r.has_prev_kv) out_ << r.prev_kv.key << '\n' << r.prev_kv.value << '\n';
}

void Printer::txn_outcome(const TxnResult& r) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(r.header) << ",\"succeeded\":" << (r.succeeded ? "true" : "false")
         << "}\n";
    return;
  }
  out_ << (r.succeeded ? "SUCCESS" : "FAILURE") << "\n\n";
}

void Printer::range(const RangeResult& r, bool count_only) {
  switch (format_) {
    case Format::kJson: {
      out_ << "{\"header\":" << header_json(r.header) << ",\"kvs\":[";
      for (size_t i = 0; i < r.kvs.size(); ++i) out_ << (i ? "," : "") << kv_json(r.kvs[i]);
      out_ << "],\"more\":" << (r.more ? "true" : "false") << ",\"count\":" << r.count << "}\n";
      return;
    }
    case Format::kTable: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& kv : r.kvs) {
        rows.push_back({kv.key, kv.value, num(kv.create_revision), num(kv.mod_revision),
                        num(kv.version), kv.lease ? hex_id(static_cast<uint64_t>(kv.lease)) : ""});
      }
      table({"KEY", "VALUE", "CREATE REV", "MOD REV", "VERSION", "LEASE"}, rows);
      if (count_only) out_ << "count: " << r.count << '\n';
      return;
    }
    case Format::kSimple:
      if (count_only) {
        out_ << r.count << '\n';
        return;
      }
      for (const auto& kv : r.kvs) simple_kv(kv, !kv.value.empty() || kv.version > 0);
      return;
  }
}

void Printer::del(const DeleteResult& r) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(r.header) << ",\"deleted\":" << r.deleted
         << ",\"prev_kvs\":[";
    for (size_t i = 0; i < r.prev_kvs.size(); ++i) out_ << (i ? "," : "") << kv_json(r.prev_kvs[i]);
    out_ << "]}\n";
    return;
  }
  out_ << r.deleted << '\n';
  for (const auto& kv : r.prev_kvs) out_ << kv.key << '\n' << kv.value << '\n';
}

void Printer::list(const ListResult& r) {
  switch (format_) {
    case Format::kJson: {
      out_ << "{\"header\":" << header_json(r.header) << ",\"entries\":[";
      for (size_t i = 0; i < r.entries.size(); ++i) {
        const DirEntry& e = r.entries[i];
        out_ << (i ? "," : "") << "{\"name\":" << json_string(e.name)
             << ",\"is_dir\":" << (e.is_dir ? "true" : "false");
        if (e.has_key) out_ << ",\"kv\":" << kv_json(e.kv);
        out_ << "}";
      }
      out_ << "],\"more\":" << (r.more ? "true" : "false") << "}\n";
      return;
    }
    case Format::kTable: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& e : r.entries) {
        rows.push_back({e.name + (e.is_dir ? "/" : ""), e.has_key ? e.kv.value : "",
                        e.has_key ? num(e.kv.mod_revision) : ""});
      }
      table({"NAME", "VALUE", "MOD REV"}, rows);
      return;
    }
    case Format::kSimple:
      // Directories end in '/', like ls -p; a name that is both shows twice.
      for (const auto& e : r.entries) {
        if (e.has_key) out_ << e.name << '\n';
        if (e.is_dir) out_ << e.name << "/\n";
      }
      if (r.more) out_ << "...\n";
      return;
  }
}

void Printer::event(const WatchEvent& e) {
  const char* type = e.type == WatchEvent::Type::kPut ? "PUT" : "DELETE";
  if (format_ == Format::kJson) {
    out_ << "{\"type\":\"" << type << "\",\"kv\":" << kv_json(e.kv);
    if (e.has_prev_kv) out_ << ",\"prev_kv\":" << kv_json(e.prev_kv);
    out_ << "}\n";
    return;
  }
  // etcdctl 3.4's form: the type, the previous key and value with
  // --prev-kv, then the key and value (empty for a DELETE, never left out).
  out_ << type << '\n';
  if (e.has_prev_kv) simple_kv(e.prev_kv, true);
  simple_kv(e.kv, true);
}

void Printer::simple_kv(const KeyValue& kv, bool value_line) {
  auto bytes = [&](const std::string& b) { return hex_ ? cli::hex_bytes(b) : b; };
  if (!value_only_) out_ << bytes(kv.key) << '\n';
  if (value_line) out_ << bytes(kv.value) << '\n';
}

void Printer::lease_grant(const LeaseGrantResult& r) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(r.header) << ",\"id\":" << r.id << ",\"ttl\":" << r.ttl_seconds
         << "}\n";
    return;
  }
  out_ << "lease " << hex_id(static_cast<uint64_t>(r.id)) << " granted with TTL(" << r.ttl_seconds
       << "s)\n";
}

void Printer::lease_keepalive(const LeaseKeepAliveResult& r) {
  if (format_ == Format::kJson) {
    out_ << "{\"id\":" << r.id << ",\"ttl\":" << r.ttl_seconds << "}\n";
    return;
  }
  out_ << "lease " << hex_id(static_cast<uint64_t>(r.id)) << " keepalived with TTL(" << r.ttl_seconds
       << ")\n";
}

void Printer::lease_list(const LeaseListResult& r) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(r.header) << ",\"leases\":[";
    for (size_t i = 0; i < r.ids.size(); ++i) out_ << (i ? "," : "") << r.ids[i];
    out_ << "]}\n";
    return;
  }
  out_ << "found " << r.ids.size() << " leases\n";
  for (int64_t id : r.ids) out_ << hex_id(static_cast<uint64_t>(id)) << '\n';
}

void Printer::lease_ttl(const LeaseTtlResult& r, bool with_keys) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(r.header) << ",\"id\":" << r.id << ",\"ttl\":" << r.ttl_seconds
         << ",\"granted_ttl\":" << r.granted_ttl_seconds << ",\"keys\":[";
    for (size_t i = 0; i < r.keys.size(); ++i) out_ << (i ? "," : "") << json_string(r.keys[i]);
    out_ << "]}\n";
    return;
  }
  const std::string id = hex_id(static_cast<uint64_t>(r.id));
  if (r.ttl_seconds < 0) {
    out_ << "lease " << id << " already expired\n";
    return;
  }
  out_ << "lease " << id << " granted with TTL(" << r.granted_ttl_seconds << "s), remaining("
       << r.ttl_seconds << "s)";
  if (with_keys) {
    out_ << ", attached keys([";
    for (size_t i = 0; i < r.keys.size(); ++i) out_ << (i ? " " : "") << r.keys[i];
    out_ << "])";
  }
  out_ << '\n';
}

// A member publishes its client URLs through raft once it runs and knows a
// leader: one without any was added but never started (etcd's "unstarted").
std::string member_status(const Member& m) { return m.client_urls.empty() ? "unstarted" : "started"; }

void Printer::members(const MemberListResult& r) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
    return s;
  };
  switch (format_) {
    case Format::kJson: {
      out_ << "{\"header\":" << header_json(r.header) << ",\"members\":[";
      for (size_t i = 0; i < r.members.size(); ++i) {
        const Member& m = r.members[i];
        out_ << (i ? "," : "") << "{\"id\":" << m.id << ",\"name\":" << json_string(m.name)
             << ",\"peer_urls\":" << json_string(join(m.peer_urls))
             << ",\"client_urls\":" << json_string(join(m.client_urls))
             << ",\"is_learner\":" << (m.is_learner ? "true" : "false")
             << ",\"status\":" << json_string(member_status(m)) << "}";
      }
      out_ << "]}\n";
      return;
    }
    case Format::kTable: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : r.members) {
        rows.push_back({hex_id(m.id), member_status(m), m.name, join(m.peer_urls), join(m.client_urls),
                        m.is_learner ? "true" : "false"});
      }
      table({"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}, rows);
      return;
    }
    case Format::kSimple:
      for (const auto& m : r.members) {
        out_ << hex_id(m.id) << ", " << member_status(m) << ", " << m.name << ", " << join(m.peer_urls) << ", "
             << join(m.client_urls) << ", " << (m.is_learner ? "true" : "false") << '\n';
      }
      return;
  }
}

void Printer::endpoint_status(const std::vector<EndpointReport>& reports) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : reports) {
    if (!r.error.empty() && r.status.header.member_id == 0) {
      if (format_ == Format::kJson) {
        out_ << "{\"endpoint\":" << json_string(r.endpoint) << ",\"error\":" << json_string(r.error)
             << "}\n";
      } else {
        out_ << r.endpoint << ", error: " << r.error << '\n';
      }
      continue;
    }
    const StatusResult& s = r.status;
    const bool is_leader = s.leader != 0 && s.leader == s.header.member_id;
    if (format_ == Format::kJson) {
      out_ << "{\"endpoint\":" << json_string(r.endpoint) << ",\"header\":" << header_json(s.header)
           << ",\"version\":" << json_string(s.version) << ",\"db_size\":" << s.db_size_bytes
           << ",\"leader\":" << s.leader << ",\"raft_index\":" << s.raft_index
           << ",\"raft_term\":" << s.raft_term << ",\"raft_applied_index\":" << s.raft_applied_index
           << ",\"is_learner\":" << (s.is_learner ? "true" : "false")
           << ",\"loop_turns\":" << s.loop_turns << ",\"loop_turn_max_us\":" << s.loop_turn_max_micros << "}\n";
      continue;
    }
    rows.push_back({r.endpoint, hex_id(s.header.member_id), s.version, human_bytes(static_cast<uint64_t>(s.db_size_bytes)),
                    is_leader ? "true" : "false", s.is_learner ? "true" : "false", unum(s.raft_term),
                    unum(s.raft_index), unum(s.raft_applied_index), unum(s.loop_turn_max_micros / 1000)});
  }
  if (format_ == Format::kJson) return;
  if (format_ == Format::kTable) {
    table({"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER", "RAFT TERM",
           "RAFT INDEX", "RAFT APPLIED INDEX", "LONGEST TURN MS"},
          rows);
    return;
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) out_ << (i ? ", " : "") << row[i];
    out_ << '\n';
  }
}

void Printer::endpoint_health(const std::vector<EndpointReport>& reports) {
  for (const auto& r : reports) {
    if (format_ == Format::kJson) {
      out_ << "{\"endpoint\":" << json_string(r.endpoint)
           << ",\"health\":" << (r.healthy ? "true" : "false") << ",\"took_ms\":" << r.took_ms;
      if (!r.error.empty()) out_ << ",\"error\":" << json_string(r.error);
      out_ << "}\n";
      continue;
    }
    char took[32];
    std::snprintf(took, sizeof(took), "%.3fms", r.took_ms);
    if (r.healthy) {
      out_ << r.endpoint << " is healthy: took = " << took << '\n';
    } else {
      out_ << r.endpoint << " is unhealthy: " << r.error << '\n';
    }
  }
}

void Printer::columns(const std::vector<std::string>& head,
                      const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(head.size());
  for (size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto print = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : std::string();
      out_ << cell;
      // No padding after the last column: lines carry no trailing blanks.
      if (i + 1 < width.size()) out_ << std::string(width[i] - cell.size() + 2, ' ');
    }
    out_ << '\n';
  };
  print(head);
  for (const auto& row : rows) print(row);
}

void Printer::grid(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  if (format_ == Format::kTable) {
    table(head, rows);
  } else {
    columns(head, rows);
  }
}

void Printer::agents(const Header& header, const std::vector<cli::AgentRow>& rows) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(header) << ",\"agents\":[";
    for (size_t i = 0; i < rows.size(); ++i) out_ << (i ? "," : "") << agent_json(rows[i]);
    out_ << "]}\n";
    return;
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows) cells.push_back(cli::agent_cells(row));
  grid(cli::agent_head(), cells);
}

void Printer::tasks(const Header& header, const std::vector<cli::TaskRow>& rows) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(header) << ",\"tasks\":[";
    for (size_t i = 0; i < rows.size(); ++i) out_ << (i ? "," : "") << task_json(rows[i]);
    out_ << "]}\n";
    return;
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows) cells.push_back(cli::task_cells(row));
  grid(cli::task_head(), cells);
}

void Printer::drain(const Header& header, const cli::DrainOutcome& o) {
  const std::string message = cli::drain_message(o);
  if (format_ != Format::kJson) {
    out_ << message << '\n';
    return;
  }
  out_ << "{\"header\":" << header_json(header) << ",\"collector\":" << json_string(o.collector)
       << ",\"draining\":" << (o.draining ? "true" : "false")
       << ",\"was_draining\":" << (o.was_draining ? "true" : "false")
       << ",\"registered\":" << (o.registered ? "true" : "false") << ",\"tasks\":" << o.tasks
       << ",\"revoking\":" << o.revoking << ",\"message\":" << json_string(message) << "}\n";
}

void Printer::rebalance(const Header& header) {
  if (format_ == Format::kJson) {
    out_ << "{\"header\":" << header_json(header) << ",\"revision\":" << header.revision << "}\n";
    return;
  }
  out_ << "rebalance requested at revision " << header.revision << '\n';
}

void Printer::line(const std::string& text) {
  if (format_ == Format::kJson) {
    out_ << "{\"message\":" << json_string(text) << "}\n";
  } else {
    out_ << text << '\n';
  }
}

void Printer::report(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
                     const std::string& json) {
  if (format_ == Format::kJson) {
    out_ << json << '\n';
  } else if (format_ == Format::kTable) {
    table(head, rows);
  } else {
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) out_ << (i ? ", " : "") << row[i];
      out_ << '\n';
    }
  }
}

}  // namespace corral::client
