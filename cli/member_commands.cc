#include "cli/member_commands.h"

#include "cli/member_add_hint.h"

namespace corral::cli {

using namespace corral::client;

MemberCommands add_member_commands(CLI::App& app, MemberArgs& a) {
  MemberCommands c;
  auto* member = app.add_subcommand("member", "member list|add|remove|promote");
  member->require_subcommand(1);
  member->fallthrough();
  c.list = member->add_subcommand("list", "list members");
  c.add = member->add_subcommand("add", "add NAME --peer-urls URL,...");
  c.add->add_option("name", a.name)->required();
  c.add->add_option("--peer-urls", a.peer_urls, "peer endpoints")->required()->delimiter(',');
  c.add->add_flag("--learner", a.learner, "add as a non-voting learner");
  c.remove = member->add_subcommand("remove", "remove ID");
  c.remove->add_option("id", a.id_text)->required();
  c.promote = member->add_subcommand("promote", "promote ID (a learner)");
  c.promote->add_option("id", a.id_text)->required();

  c.move_leader = app.add_subcommand("move-leader", "move-leader ID");
  c.move_leader->add_option("id", a.id_text)->required();
  return c;
}

bool check_member_args(MemberArgs& args) {
  bool bad = false;
  if (std::optional<uint64_t> id = hex_id_arg(args.id_text, "", bad)) args.id = *id;
  return !bad;
}

int run_member(const MemberCommands& c, const MemberArgs& a, CommandContext& ctx) {
  if (*c.list) {
    auto res = ctx.client.member_list();
    if (!res.ok()) return fail(res.error());
    ctx.out.members(res.value());
  } else if (*c.add) {
    auto res = ctx.client.member_add(a.name, a.peer_urls, a.learner);
    if (!res.ok()) return fail(res.error());
    ctx.out.line("Member " + hex_id(res->added.id) + " added to cluster " + hex_id(res->header.cluster_id));
    ctx.out.members(res.value());
    if (ctx.format != Format::kJson) ctx.out.line(member_add_hint(res.value()));
  } else if (*c.remove) {
    auto res = ctx.client.member_remove(a.id);
    if (!res.ok()) return fail_member(res.error(), a.id);
    ctx.out.line("Member " + hex_id(a.id) + " removed from cluster");
  } else if (*c.promote) {
    auto res = ctx.client.member_promote(a.id);
    if (!res.ok()) return fail_member(res.error(), a.id);
    ctx.out.line("Member " + hex_id(a.id) + " promoted in cluster");
  } else {
    auto res = ctx.client.move_leader(a.id);
    if (!res.ok()) return fail_member(res.error(), a.id);
    ctx.out.line("Leadership transferred to " + hex_id(a.id));
  }
  return kExitOk;
}

}  // namespace corral::cli
