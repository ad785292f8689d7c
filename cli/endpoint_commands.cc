#include "cli/endpoint_commands.h"

#include <chrono>

namespace corral::cli {

using namespace corral::client;

namespace {

// One endpoint's row; `exit_code`: kExitOk when healthy, else its failure's.
EndpointReport report_of(Client& client, const std::string& endpoint, int& exit_code) {
  EndpointReport rep;
  rep.endpoint = endpoint;
  const auto start = std::chrono::steady_clock::now();
  auto res = client.status_of(endpoint);
  rep.took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (res.ok()) {
    rep.status = res.value();
    rep.healthy = res->leader != 0 && res->errors.empty();
    if (!rep.healthy) rep.error = res->leader == 0 ? "no leader" : res->errors.front();
  } else {
    rep.error = to_string(res.error());
  }
  exit_code = rep.healthy ? kExitOk : res.ok() ? kExitServerError : exit_code_for(res.error());
  return rep;
}

}  // namespace

EndpointCommands add_endpoint_commands(CLI::App& app, HashKvArgs& hashkv_args) {
  EndpointCommands c;
  auto* endpoint = app.add_subcommand("endpoint", "endpoint status|health|hashkv");
  endpoint->require_subcommand(1);
  endpoint->fallthrough();
  c.status = endpoint->add_subcommand("status", "status of every endpoint");
  c.health = endpoint->add_subcommand("health", "health of every endpoint");
  c.hashkv = add_hashkv_command(*endpoint, hashkv_args);
  return c;
}

int run_endpoint(const EndpointCommands& c, const HashKvArgs& hashkv_args, CommandContext& ctx) {
  if (*c.hashkv) return run_hashkv(ctx.client, ctx.endpoints, hashkv_args, ctx.out, exit_code_for);
  int rc = kExitOk;
  std::vector<EndpointReport> reports;
  for (const std::string& ep : ctx.endpoints) {
    int exit_code = kExitOk;
    EndpointReport rep = report_of(ctx.client, ep, exit_code);
    if (exit_code != kExitOk) rc = exit_code;
    reports.push_back(std::move(rep));
  }
  if (*c.status) {
    ctx.out.endpoint_status(reports);
  } else {
    ctx.out.endpoint_health(reports);
  }
  return rc;
}

}  // namespace corral::cli
