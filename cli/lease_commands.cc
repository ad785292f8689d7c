#include "cli/lease_commands.h"

#include <iostream>

#include "client/lease_keeper.h"

namespace corral::cli {

using namespace corral::client;

namespace {

int run_keepalive(const LeaseArgs& a, CommandContext& ctx) {
  const auto id = static_cast<int64_t>(a.id);
  while (true) {
    auto res = ctx.client.lease_keepalive_once(id);
    if (!res.ok()) return fail_lease(res.error(), id);
    if (res->ttl_seconds <= 0) {
      return fail(make_error(ErrorCode::kLeaseNotFound, "lease " + hex_id(a.id) + " expired"));
    }
    ctx.out.lease_keepalive(res.value());
    std::cout.flush();
    if (a.once) break;
    if (interrupted_within(keepalive_interval(res->ttl_seconds).count())) break;
  }
  return kExitOk;
}

}  // namespace

LeaseCommands add_lease_commands(CLI::App& app, LeaseArgs& a) {
  LeaseCommands c;
  auto* lease = app.add_subcommand("lease", "lease grant|keepalive|revoke|list|ttl");
  lease->require_subcommand(1);
  lease->fallthrough();
  c.grant = lease->add_subcommand("grant", "grant TTL (seconds)");
  c.grant->add_option("ttl", a.ttl)->required()->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600, "TTL in seconds"));
  c.grant->add_option("--put", a.grant_puts,
                      "KEY VALUE: put this key with the new lease, in the same revision (repeatable; "
                      "all or nothing)")
      ->expected(1, 128)
      ->type_size(2);
  c.keepalive = lease->add_subcommand("keepalive", "keepalive ID: refresh until interrupted (alias keep-alive)");
  c.keepalive->alias("keep-alive");
  c.keepalive->add_option("id", a.id_text)->required();
  c.keepalive->add_flag("--once", a.once, "refresh once and exit");
  c.revoke = lease->add_subcommand("revoke", "revoke ID");
  c.revoke->add_option("id", a.id_text)->required();
  c.list = lease->add_subcommand("list", "list leases");
  c.ttl = lease->add_subcommand("ttl", "ttl ID (alias timetolive)");
  c.ttl->alias("timetolive");
  c.ttl->add_option("id", a.id_text)->required();
  c.ttl->add_flag("--keys", a.with_keys, "list the keys attached");
  return c;
}

bool check_lease_args(LeaseArgs& args) {
  bool bad = false;
  if (std::optional<uint64_t> id = hex_id_arg(args.id_text, "", bad)) args.id = *id;
  return !bad;
}

int run_lease(const LeaseCommands& c, const LeaseArgs& a, CommandContext& ctx) {
  const auto id = static_cast<int64_t>(a.id);
  if (*c.grant) {
    std::vector<LeaseKeyPut> puts;
    for (const auto& [k, v] : a.grant_puts) puts.push_back({k, v});
    auto res = puts.empty() ? ctx.client.lease_grant(a.ttl) : ctx.client.lease_grant_with_keys(a.ttl, std::move(puts));
    if (!res.ok()) return fail(res.error());
    ctx.out.lease_grant(res.value());
  } else if (*c.keepalive) {
    return run_keepalive(a, ctx);
  } else if (*c.revoke) {
    auto res = ctx.client.lease_revoke(id);
    if (!res.ok()) return fail_lease(res.error(), id);
    ctx.out.line("lease " + hex_id(a.id) + " revoked");
  } else if (*c.list) {
    auto res = ctx.client.lease_list();
    if (!res.ok()) return fail(res.error());
    ctx.out.lease_list(res.value());
  } else {
    auto res = ctx.client.lease_ttl(id, a.with_keys);
    if (!res.ok()) return fail_lease(res.error(), id);
    ctx.out.lease_ttl(res.value(), a.with_keys);
  }
  return kExitOk;
}

}  // namespace corral::cli
