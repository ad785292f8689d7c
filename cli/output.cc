#include "cli/output.h"

#include <algorithm>
#include <cstdio>

namespace corral::client {

std::string hex_id(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
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
      for (const auto& kv : r.kvs) {
        out_ << kv.key << '\n';
        if (!kv.value.empty() || kv.version > 0) out_ << kv.value << '\n';
      }
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
  out_ << type << '\n' << e.kv.key << '\n';
  if (e.type == WatchEvent::Type::kPut) out_ << e.kv.value << '\n';
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
             << ",\"is_learner\":" << (m.is_learner ? "true" : "false") << "}";
      }
      out_ << "]}\n";
      return;
    }
    case Format::kTable: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : r.members) {
        rows.push_back({hex_id(m.id), "started", m.name, join(m.peer_urls), join(m.client_urls),
                        m.is_learner ? "true" : "false"});
      }
      table({"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}, rows);
      return;
    }
    case Format::kSimple:
      for (const auto& m : r.members) {
        out_ << hex_id(m.id) << ", started, " << m.name << ", " << join(m.peer_urls) << ", "
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
           << ",\"is_learner\":" << (s.is_learner ? "true" : "false") << "}\n";
      continue;
    }
    rows.push_back({r.endpoint, hex_id(s.header.member_id), s.version, num(s.db_size_bytes),
                    is_leader ? "true" : "false", s.is_learner ? "true" : "false", unum(s.raft_term),
                    unum(s.raft_index), unum(s.raft_applied_index)});
  }
  if (format_ == Format::kJson) return;
  if (format_ == Format::kTable) {
    table({"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER", "RAFT TERM",
           "RAFT INDEX", "RAFT APPLIED INDEX"},
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

void Printer::line(const std::string& text) {
  if (format_ == Format::kJson) {
    out_ << "{\"message\":" << json_string(text) << "}\n";
  } else {
    out_ << text << '\n';
  }
}

}  // namespace corral::client
