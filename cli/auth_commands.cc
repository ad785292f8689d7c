#include "cli/auth_commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace corral::cli {

using client::AuthPermission;
using client::AuthResult;
using client::Client;
using client::Error;
using client::ErrorCode;
using client::Result;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
const std::string kAllKeys("\0", 1);

std::string perm_text(const AuthPermission& p) {
  if (p.range_end.empty()) return p.key;
  if (p.range_end == kAllKeys) return "[" + p.key + ", <open ended>";
  std::string out = "[" + p.key + ", " + p.range_end + ")";
  if (p.range_end == client::prefix_range_end(p.key)) out += " (prefix " + p.key + ")";
  return out;
}

void print_role(const AuthResult& r) {
  std::cout << "Role " << r.name << "\n";
  for (auto [title, want] : {std::pair{"KV Read:", AuthPermission::Type::kRead},
                             std::pair{"KV Write:", AuthPermission::Type::kWrite}}) {
    std::cout << title << "\n";
    for (const auto& p : r.perms) {
      if (p.type == want || p.type == AuthPermission::Type::kReadWrite) std::cout << "\t" << perm_text(p) << "\n";
    }
  }
}

// The range of KEY [RANGE_END] with --prefix / --from-key, as get takes it.
std::string range_end_of(const AuthArgs& a) {
  if (a.prefix) return client::prefix_range_end(a.key);
  if (a.from_key) return kAllKeys;
  return a.range_end;
}

// The new password of user add / passwd: NAME:PASSWORD, --new-user-password or prompted.
std::optional<std::string> new_password(AuthArgs& a) {
  auto [name, pw] = split_user(a.user_name);
  a.user_name = name;
  if (pw) return pw;
  if (!a.new_password.empty()) return a.new_password;
  auto first = read_password("Password of " + name + ": ");
  if (!first) return std::nullopt;
  if (isatty(STDIN_FILENO)) {
    auto again = read_password("Type password of " + name + " again for confirmation: ");
    if (!again || *again != *first) {
      std::fprintf(stderr, "Error: the passwords differ\n");
      return std::nullopt;
    }
  }
  return first;
}

}  // namespace

std::pair<std::string, std::optional<std::string>> split_user(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos) return {text, std::nullopt};
  return {text.substr(0, colon), text.substr(colon + 1)};
}

std::optional<std::string> read_password(const std::string& prompt) {
  std::string line;
  if (!isatty(STDIN_FILENO)) {
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  termios old{};
  bool hidden = tcgetattr(STDIN_FILENO, &old) == 0;
  if (hidden) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (hidden) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::fprintf(stderr, "\n");
  if (!got) return std::nullopt;
  return line;
}

void add_auth_commands(CLI::App& app, AuthArgs& a) {
  a.user = app.add_subcommand("user", "user add|delete|get|list|passwd|grant-role|revoke-role");
  a.user->require_subcommand(1);
  a.user->fallthrough();
  a.user_add = a.user->add_subcommand("add", "add NAME[:PASSWORD] (password prompted for when not given)");
  a.user_add->add_option("name", a.user_name)->required();
  a.user_add->add_option("--new-user-password", a.new_password, "the password (instead of NAME:PASSWORD or a prompt)");
  a.user_add->add_flag("--no-password", a.no_password, "no password login: the user comes only from the transport");
  a.user_delete = a.user->add_subcommand("delete", "delete NAME");
  a.user_delete->add_option("name", a.user_name)->required();
  a.user_get = a.user->add_subcommand("get", "get NAME: its roles");
  a.user_get->add_option("name", a.user_name)->required();
  a.user_list = a.user->add_subcommand("list", "list users");
  a.user_passwd = a.user->add_subcommand("passwd", "passwd NAME[:PASSWORD]: change the password");
  a.user_passwd->add_option("name", a.user_name)->required();
  a.user_passwd->add_option("--new-user-password", a.new_password, "the new password");
  a.user_grant = a.user->add_subcommand("grant-role", "grant-role NAME ROLE");
  a.user_grant->add_option("name", a.user_name)->required();
  a.user_grant->add_option("role", a.role_name)->required();
  a.user_revoke = a.user->add_subcommand("revoke-role", "revoke-role NAME ROLE");
  a.user_revoke->add_option("name", a.user_name)->required();
  a.user_revoke->add_option("role", a.role_name)->required();

  a.role = app.add_subcommand("role", "role add|delete|get|list|grant-permission|revoke-permission");
  a.role->require_subcommand(1);
  a.role->fallthrough();
  a.role_add = a.role->add_subcommand("add", "add NAME");
  a.role_add->add_option("name", a.role_name)->required();
  a.role_delete = a.role->add_subcommand("delete", "delete NAME (also taken from every user)");
  a.role_delete->add_option("name", a.role_name)->required();
  a.role_get = a.role->add_subcommand("get", "get NAME: its permissions");
  a.role_get->add_option("name", a.role_name)->required();
  a.role_list = a.role->add_subcommand("list", "list roles");
  a.role_grant = a.role->add_subcommand("grant-permission",
                                        "grant-permission ROLE read|write|readwrite KEY [RANGE_END] [--prefix|--from-key]");
  a.role_grant->add_option("name", a.role_name)->required();
  a.role_grant->add_option("type", a.perm_type)->required()->check(CLI::IsMember({"read", "write", "readwrite"}));
  a.role_grant->add_option("key", a.key)->required();
  a.role_grant->add_option("range_end", a.range_end, "end of the range, not included");
  a.role_grant->add_flag("--prefix", a.prefix, "every key with this prefix");
  a.role_grant->add_flag("--from-key", a.from_key, "every key from KEY on (byte order)");
  a.role_revoke = a.role->add_subcommand("revoke-permission", "revoke-permission ROLE KEY [RANGE_END] [--prefix|--from-key]");
  a.role_revoke->add_option("name", a.role_name)->required();
  a.role_revoke->add_option("key", a.key)->required();
  a.role_revoke->add_option("range_end", a.range_end, "end of the range, not included");
  a.role_revoke->add_flag("--prefix", a.prefix, "every key with this prefix");
  a.role_revoke->add_flag("--from-key", a.from_key, "every key from KEY on (byte order)");

  a.auth = app.add_subcommand("auth", "auth enable|disable|status");
  a.auth->require_subcommand(1);
  a.auth->fallthrough();
  a.auth_enable = a.auth->add_subcommand("enable", "enable: every request then needs a user (needs user root)");
  a.auth_disable = a.auth->add_subcommand("disable", "disable: open access again");
  a.auth_status = a.auth->add_subcommand("status", "status: enabled or not, and the auth revision");
}

bool auth_command_given(const AuthArgs& a) { return *a.user || *a.role || *a.auth; }

int run_auth_command(Client& client, AuthArgs& a, int (*fail)(const Error&)) {
  auto done = [&](const Result<AuthResult>& r, const std::string& line) {
    if (!r.ok()) return fail(r.error());
    std::cout << line << "\n";
    return kExitOk;
  };
  if (*a.user_add) {
    std::string password;
    if (!a.no_password) {
      auto pw = new_password(a);
      if (!pw) return kExitUsage;
      password = *pw;
    }
    return done(client.user_add(a.user_name, password, a.no_password), "User " + a.user_name + " created");
  }
  if (*a.user_delete) return done(client.user_delete(a.user_name), "User " + a.user_name + " deleted");
  if (*a.user_get) {
    auto r = client.user_get(a.user_name);
    if (!r.ok()) return fail(r.error());
    std::cout << "User: " << r->name << "\nRoles:";
    for (const auto& role : r->roles) std::cout << " " << role;
    std::cout << "\n";
    return kExitOk;
  }
  if (*a.user_list || *a.role_list) {
    auto r = *a.user_list ? client.user_list() : client.role_list();
    if (!r.ok()) return fail(r.error());
    for (const auto& n : r->names) std::cout << n << "\n";
    return kExitOk;
  }
  if (*a.user_passwd) {
    auto pw = new_password(a);
    if (!pw) return kExitUsage;
    return done(client.user_change_password(a.user_name, *pw), "Password updated");
  }
  if (*a.user_grant) {
    return done(client.user_grant_role(a.user_name, a.role_name), "Role " + a.role_name + " is granted to user " + a.user_name);
  }
  if (*a.user_revoke) {
    return done(client.user_revoke_role(a.user_name, a.role_name), "Role " + a.role_name + " is revoked from user " + a.user_name);
  }
  if (*a.role_add) return done(client.role_add(a.role_name), "Role " + a.role_name + " created");
  if (*a.role_delete) return done(client.role_delete(a.role_name), "Role " + a.role_name + " deleted");
  if (*a.role_get) {
    auto r = client.role_get(a.role_name);
    if (!r.ok()) return fail(r.error());
    print_role(*r);
    return kExitOk;
  }
  if ((*a.role_grant || *a.role_revoke) && a.prefix + a.from_key + !a.range_end.empty() > 1) {
    std::fprintf(stderr, "Error: give one of RANGE_END, --prefix and --from-key\n");
    return kExitUsage;
  }
  if (*a.role_grant) {
    AuthPermission p;
    p.type = a.perm_type == "read"    ? AuthPermission::Type::kRead
             : a.perm_type == "write" ? AuthPermission::Type::kWrite
                                      : AuthPermission::Type::kReadWrite;
    p.key = a.key;
    p.range_end = range_end_of(a);
    return done(client.role_grant_permission(a.role_name, p), "Role " + a.role_name + " updated");
  }
  if (*a.role_revoke) {
    auto r = client.role_revoke_permission(a.role_name, a.key, range_end_of(a));
    return done(r, "Permission of key " + a.key + " is revoked from role " + a.role_name);
  }
  if (*a.auth_enable) return done(client.auth_enable(), "Authentication Enabled");
  if (*a.auth_disable) return done(client.auth_disable(), "Authentication Disabled");
  if (*a.auth_status) {
    auto r = client.auth_status();
    if (!r.ok()) return fail(r.error());
    std::cout << "Authentication Status: " << (r->enabled ? "true" : "false") << "\nAuthRevision: " << r->auth_revision
              << "\n";
    return kExitOk;
  }
  std::fprintf(stderr, "Error: no auth command\n");
  return kExitUsage;
}

}  // namespace corral::cli
