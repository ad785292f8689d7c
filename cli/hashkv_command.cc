#include "cli/hashkv_command.h"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace corral::cli {

namespace {

struct Answer {
  std::string endpoint;
  client::Result<client::HashKvResult> result;
};

std::vector<Answer> ask_all(client::Client& c, const std::vector<std::string>& endpoints, int64_t revision) {
  std::vector<Answer> out;
  for (const std::string& ep : endpoints) out.push_back(Answer{ep, c.hash_kv_of(ep, revision)});
  return out;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

CLI::App* add_hashkv_command(CLI::App& endpoint, HashKvArgs& a) {
  auto* cmd = endpoint.add_subcommand(
      "hashkv", "hashkv [--rev R] [--check]: each endpoint's hash of the key-space history up to one revision");
  cmd->add_option("--rev", a.revision, "the revision to hash up to (0: the lowest current revision of the endpoints)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--check", a.check, "exit 1 if the endpoints' hashes differ");
  return cmd;
}

int run_hashkv(client::Client& c, const std::vector<std::string>& endpoints, const HashKvArgs& a,
               client::Printer& out, const std::function<int(const client::Error&)>& exit_code_for) {
  std::vector<Answer> answers = ask_all(c, endpoints, a.revision);
  if (a.revision == 0) {
    // One revision for all: members apply at their own pace.
    std::optional<int64_t> lowest;
    bool differ = false;
    for (const Answer& x : answers) {
      if (!x.result.ok()) continue;
      if (lowest && *lowest != x.result->hash_revision) differ = true;
      lowest = std::min(lowest.value_or(x.result->hash_revision), x.result->hash_revision);
    }
    if (differ) answers = ask_all(c, endpoints, *lowest);
  }
  int rc = 0;
  std::vector<std::vector<std::string>> rows;
  std::string json = "[";
  std::optional<uint64_t> first_hash;
  bool mismatch = false;
  for (const Answer& x : answers) {
    if (json.size() > 1) json += ",";
    if (!x.result.ok()) {
      rows.push_back({x.endpoint, "error: " + client::to_string(x.result.error()), "", ""});
      json += "{\"endpoint\":" + client::json_string(x.endpoint) +
              ",\"error\":" + client::json_string(client::to_string(x.result.error())) + "}";
      rc = exit_code_for(x.result.error());
      continue;
    }
    const client::HashKvResult& h = *x.result;
    if (first_hash && *first_hash != h.hash) mismatch = true;
    if (!first_hash) first_hash = h.hash;
    rows.push_back({x.endpoint, hex64(h.hash), std::to_string(h.hash_revision), std::to_string(h.compact_revision)});
    json += "{\"endpoint\":" + client::json_string(x.endpoint) + ",\"member_id\":" +
            std::to_string(h.header.member_id) + ",\"hash\":" + std::to_string(h.hash) +
            ",\"hash_revision\":" + std::to_string(h.hash_revision) +
            ",\"compact_revision\":" + std::to_string(h.compact_revision) + "}";
  }
  json += "]";
  out.report({"ENDPOINT", "HASH", "HASH REVISION", "COMPACT REVISION"}, rows, json);
  if (a.check && mismatch) {
    std::fprintf(stderr, "Error: the endpoints' hashes differ: their key-space histories are not the same\n");
    if (rc == 0) rc = 1;
  }
  return rc;
}

}  // namespace corral::cli
