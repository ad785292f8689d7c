#include "cli/global_flags.h"

#include <cstdio>

#include "cli/auth_commands.h"
#include "client/curve_options.h"
#include "client/duration.h"
#include "client/wire_flag.h"

namespace corral::cli {

using namespace corral::client;

void add_global_flags(CLI::App& app, GlobalArgs& a) {
  app.add_option("--endpoints", a.endpoints, "comma-separated member client endpoints")
      ->envname("CORRALCTL_ENDPOINTS")
      ->capture_default_str();
  app.add_option("-w,--write-out", a.format, "output format: simple, json or table")
      ->check(CLI::IsMember({"simple", "json", "table"}))
      ->capture_default_str();
  app.add_option("--command-timeout", a.command_timeout, "deadline of each request (Go duration)")
      ->capture_default_str();
  app.add_option("--curve-key-file", a.curve_key_file, "this client's CURVE key pair (curve keygen), for members with CURVE on");
  app.add_option("--curve-server-key", a.curve_server_key,
                 "the members' CURVE public keys: .pub files or Z85, comma-separated, one for all or one per endpoint");
  app.add_option("--client-wire", a.client_wire, kClientWireFlagHelp)
      ->check(CLI::IsMember({"auto", "tcp", "zmq"}))
      ->envname("CORRALCTL_CLIENT_WIRE")
      ->capture_default_str();
  app.add_option("--user", a.user, "run as this user: NAME[:PASSWORD] (password prompted for when absent)");
  app.add_option("--password", a.password, "the password of --user");
}

Format format_of(const GlobalArgs& a) {
  return a.format == "json" ? Format::kJson : a.format == "table" ? Format::kTable : Format::kSimple;
}

std::optional<std::chrono::milliseconds> command_timeout_of(const GlobalArgs& a) {
  Result<std::chrono::microseconds> timeout = parse_duration(a.command_timeout);
  if (!timeout.ok() || timeout->count() < 1000) {
    std::fprintf(stderr, "Error: --command-timeout: %s\n",
                 timeout.ok() ? "must be at least 1ms" : timeout.error().message.c_str());
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(timeout.value());
}

std::optional<Options> client_options_of(const GlobalArgs& a, std::chrono::milliseconds timeout) {
  Options options;
  if (!a.user.empty()) {
    auto [name, password] = split_user(a.user);
    if (!password && !a.password.empty()) password = a.password;
    if (!password) password = read_password("Password: ");
    if (name.empty() || !password) {
      std::fprintf(stderr, "Error: --user needs a name and a password (NAME:PASSWORD, --password or the prompt)\n");
      return std::nullopt;
    }
    options.user = name;
    options.password = *password;
  }
  options.endpoints = CLI::detail::split(a.endpoints, ',');
  options.request_timeout = timeout;
  if (std::string bad = apply_curve_flags(a.curve_key_file, a.curve_server_key, options); !bad.empty()) {
    std::fprintf(stderr, "Error: %s\n", bad.c_str());
    return std::nullopt;
  }
  if (std::string bad = apply_wire_flag(a.client_wire, options); !bad.empty()) {
    std::fprintf(stderr, "Error: %s\n", bad.c_str());
    return std::nullopt;
  }
  return options;
}

}  // namespace corral::cli
