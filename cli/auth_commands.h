// corralctl's users, roles and auth commands (etcdctl's, with its output):
//   user add|delete|get|list|passwd|grant-role|revoke-role
//   role add|delete|get|list|grant-permission|revoke-permission
//   auth enable|disable|status
// and the password of --user, prompted for when it is not given.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "client/client.h"

namespace corral::cli {

struct AuthArgs {
  std::string user_name;       // user add NAME[:PASSWORD], passwd NAME, ...
  std::string role_name;
  std::string perm_type;       // read | write | readwrite
  std::string key, range_end;
  bool prefix = false, from_key = false;
  std::string new_password;    // --new-user-password
  bool no_password = false;

  CLI::App* user = nullptr;
  CLI::App* user_add = nullptr;
  CLI::App* user_delete = nullptr;
  CLI::App* user_get = nullptr;
  CLI::App* user_list = nullptr;
  CLI::App* user_passwd = nullptr;
  CLI::App* user_grant = nullptr;
  CLI::App* user_revoke = nullptr;
  CLI::App* role = nullptr;
  CLI::App* role_add = nullptr;
  CLI::App* role_delete = nullptr;
  CLI::App* role_get = nullptr;
  CLI::App* role_list = nullptr;
  CLI::App* role_grant = nullptr;
  CLI::App* role_revoke = nullptr;
  CLI::App* auth = nullptr;
  CLI::App* auth_enable = nullptr;
  CLI::App* auth_disable = nullptr;
  CLI::App* auth_status = nullptr;
};

void add_auth_commands(CLI::App& app, AuthArgs& args);

// Whether one of these commands was given.
bool auth_command_given(const AuthArgs& args);

// Runs it: the exit code. `fail` prints an error and gives its exit code.
int run_auth_command(client::Client& client, AuthArgs& args, int (*fail)(const client::Error&));

// A password: prompted for on the terminal without echo when stdin is one,
// else one line of stdin. nullopt when none could be read.
std::optional<std::string> read_password(const std::string& prompt);

// "name:password" -> name and password (password nullopt without ':').
std::pair<std::string, std::optional<std::string>> split_user(const std::string& text);

}  // namespace corral::cli
