// corralctl's output in its three formats: simple (etcdctl's default: key
// and value on their own lines), json (one object per command, byte strings
// as JSON strings with control bytes escaped), table (aligned columns).
// The log-collection views (agents, tasks) print aligned columns without
// borders in simple format.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cli/collection_view.h"
#include "client/types.h"

namespace corral::client {

enum class Format { kSimple, kJson, kTable };

std::string hex_id(uint64_t id);
std::string json_string(const std::string& bytes);
// A size as etcdctl prints one (go-humanize's Bytes, powers of 1000):
// "512 B", "1.5 kB", "20 MB".
std::string human_bytes(uint64_t bytes);

// "started", or "unstarted" for a member added that never ran (no client URLs yet).
std::string member_status(const Member& m);

struct EndpointReport {
  std::string endpoint;
  bool healthy = false;
  double took_ms = 0;
  StatusResult status;
  std::string error;
};

class Printer {
 public:
  Printer(Format format, std::ostream& out) : format_(format), out_(out) {}

  // etcdctl's --print-value-only and --hex, for keys and values in simple
  // format (get, watch).
  void set_simple_form(bool value_only, bool hex) {
    value_only_ = value_only;
    hex_ = hex;
  }

  void put(const PutResult& r);
  void range(const RangeResult& r, bool count_only);
  void del(const DeleteResult& r);
  void list(const ListResult& r);
  void event(const WatchEvent& e);
  void lease_grant(const LeaseGrantResult& r);
  void lease_keepalive(const LeaseKeepAliveResult& r);
  void lease_list(const LeaseListResult& r);
  void lease_ttl(const LeaseTtlResult& r, bool with_keys);
  void members(const MemberListResult& r);
  void endpoint_status(const std::vector<EndpointReport>& reports);
  void endpoint_health(const std::vector<EndpointReport>& reports);
  // The first lines of a txn's output: SUCCESS or FAILURE and a blank line
  // (etcdctl's form); in json {"header":...,"succeeded":...}. Each op's
  // output follows, as its own command would print it.
  void txn_outcome(const TxnResult& r);
  // A plain message; in json an object {"message": ...}.
  void line(const std::string& text);
  // Rows of a report (snapshot status, endpoint hashkv): simple prints each
  // row comma-separated (etcdctl's form), table a bordered table under
  // `head`, json prints `json` (already formed, one line).
  void report(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
              const std::string& json);

  // Log collection: `header` is the one of the read the view was taken at.
  void agents(const Header& header, const std::vector<cli::AgentRow>& rows);
  void tasks(const Header& header, const std::vector<cli::TaskRow>& rows);
  void drain(const Header& header, const cli::DrainOutcome& outcome);
  void rebalance(const Header& header);

 private:
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows);
  // Simple format for row views: the table's columns, aligned, no borders.
  void columns(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows);
  // Table or columns by format (not json).
  void grid(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows);
  std::string header_json(const Header& h) const;
  std::string kv_json(const KeyValue& kv) const;

  // A key or value line in simple format, as the flags above ask.
  void simple_kv(const KeyValue& kv, bool value_line);

  Format format_;
  std::ostream& out_;
  bool value_only_ = false;
  bool hex_ = false;
};

}  // namespace corral::client
