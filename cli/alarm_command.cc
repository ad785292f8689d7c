#include "cli/alarm_command.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace corral::cli {

namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

AlarmCommands add_alarm_commands(CLI::App& app, AlarmArgs& a) {
  auto* alarm = app.add_subcommand("alarm", "alarm list|disarm: the NOSPACE alarm (a member's disk below its reserve)");
  alarm->require_subcommand(1);
  AlarmCommands out;
  out.list = alarm->add_subcommand("list", "list: the alarms standing (member id, alarm)");
  out.disarm = alarm->add_subcommand(
      "disarm", "disarm [--member ID]: lift the alarms (refused while the leader's disk is below its reserve)");
  out.disarm->add_option("--member", a.member, "the member id (hex) whose alarm to lift; default: every alarm");
  return out;
}

int run_alarm(client::Client& c, bool list, const AlarmArgs& a, client::Printer& out,
              const std::function<int(const client::Error&)>& fail) {
  client::AlarmRequest r;
  if (!list) {
    r.action = client::AlarmRequest::Action::kDisarm;
    if (!a.member.empty()) {
      char* end = nullptr;
      r.member_id = std::strtoull(a.member.c_str(), &end, 16);
      if (end == a.member.c_str() || *end != '\0' || r.member_id == 0) {
        std::fprintf(stderr, "Error: --member %s: not a member id (hex, as `member list` prints)\n", a.member.c_str());
        return 1;
      }
    }
  }
  auto res = c.alarm(r);
  if (!res.ok()) return fail(res.error());
  std::vector<std::vector<std::string>> rows;
  std::string json = "[";
  for (const auto& m : res->alarms) {
    rows.push_back({hex64(m.member_id), m.alarm});
    if (json.size() > 1) json += ",";
    json += "{\"member_id\":\"" + hex64(m.member_id) + "\",\"alarm\":" + client::json_string(m.alarm) + "}";
  }
  json += "]";
  out.report({"MEMBER", "ALARM"}, rows, json);
  return 0;
}

}  // namespace corral::cli
