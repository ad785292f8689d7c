// parse_agent_config: CLI11 reads flags, the config file and the
// environment into an AgentConfig; validate() then checks it.
#include "client/wire_flag.h"
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/rules.h"
#include "agent/config/source_spec.h"
#include "agent/config/version.h"

namespace corral::agent::config {
namespace {

// CLI11 2.1's message for a config-file key that is no option.
constexpr std::string_view kExtrasPrefix = "INI was not able to parse ";
// CLI11 reports a [section] header as the key "<section>.++".
constexpr std::string_view kSectionOpen = ".++";
constexpr std::string_view kNotConfigurableSuffix = ": This option is not allowed in a configuration file";

// Values as CLI11 reads them, before they become an AgentConfig.
struct RawFlags {
  std::vector<std::string> roles;
  std::vector<std::string> sources;
  std::string sink;
  std::string sink_dir;
  std::string log_level = "info";
};

std::string env_name(const std::string& flag) {
  std::string out = "CORRAL_AGENT_";
  for (char c : flag.substr(2)) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return out;
}

// One value per occurrence, even for lists: `--source A B` must not take B
// as a second source (lists repeat the flag or use the delimiter).
template <typename T>
CLI::Option* add(CLI::App& app, const std::string& flag, T& value, const std::string& help) {
  return app.add_option(flag, value, help)->envname(env_name(flag))->allow_extra_args(false);
}

void add_options(CLI::App& app, AgentConfig& c, RawFlags& raw) {
  add(app, "--endpoints", c.endpoints, "corrald client endpoints tcp://HOST:PORT (comma-separated or repeated)")
      ->delimiter(',');
  add(app, "--curve-key-file", c.curve_key_file, "this agent's CURVE key pair file, for corrald members with CURVE on");
  add(app, "--curve-server-key", c.curve_server_key,
      "the members' CURVE public keys: .pub files or Z85, comma-separated, one for all or one per endpoint");
  add(app, "--client-wire", c.client_wire, client::kClientWireFlagHelp)->check(CLI::IsMember({"auto", "tcp", "zmq"}));
  add(app, "--user", c.user, "corral user the agent runs as (auth enabled): a role limited to its own keys");
  add(app, "--password", c.password, "the password of --user (better: the config file or CORRAL_AGENT_PASSWORD)");
  add(app, "--id", c.id, "agent id, 1..128 bytes of [A-Za-z0-9._-] (default: the host name, sanitized)");
  add(app, "--ip", c.ip, "this machine's address, the last segment of its stream keys (required)");
  add(app, "--host", c.host, "host name for people (default: gethostname)");
  add(app, "--roles", raw.roles, "source, collector, or source,collector")
      ->delimiter(',')
      ->check(CLI::IsMember({"source", "collector"}));
  add(app, "--listen", c.listen, "tcp://IP:PORT to serve fetches on (source role)");
  add(app, "--source", raw.sources, "APP/TOPIC=GLOB, repeated (or ';'-separated); GLOB absolute")->delimiter(';');
  add(app, "--sink", raw.sink, "file:DIR | stdout | zmq:tcp://HOST:PORT | zmq-bind:tcp://IP:PORT (collector role)");
  add(app, "--sink-dir", raw.sink_dir, "DIR: short for --sink file:DIR");
  add(app, "--capacity", c.capacity, "a collector's weight, 1..1000000")->capture_default_str();
  add(app, "--zone", c.zone, "zone label, for zone-aware placement");
  add(app, "--lease-ttl-seconds", c.lease_ttl_seconds, "the agent's lease TTL, 2..300")->capture_default_str();
  add(app, "--checkpoint-interval-ms", c.checkpoint_interval_ms, "sink sync + checkpoint commit period, 10..600000")
      ->capture_default_str();
  add(app, "--max-in-flight-fetches", c.max_in_flight_fetches, "a collector's concurrent fetches per source, 1..64")
      ->capture_default_str();
  add(app, "--fetch-max-bytes", c.fetch_max_bytes, "bytes per fetch reply, 4096..4194304")->capture_default_str();
  add(app, "--release-timeout-ms", c.release_timeout_ms, "time to finish and release a revoking task, 100..600000")
      ->capture_default_str();
  add(app, "--rotation-grace-ms", c.rotation_grace_ms,
      "how long a rotated file must stop growing before its stream moves to the next file, 0..600000")
      ->capture_default_str();
  add(app, "--metrics-listen", c.metrics_listen, "IP:PORT to serve Prometheus metrics on (http://IP:PORT/metrics)");
  add(app, "--log-level", raw.log_level, "error, warn, info or debug")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}))
      ->capture_default_str();
}

LogLevel to_log_level(const std::string& name) {
  static const std::map<std::string, LogLevel> kLevels = {
      {"error", LogLevel::kError}, {"warn", LogLevel::kWarn}, {"info", LogLevel::kInfo}, {"debug", LogLevel::kDebug}};
  return kLevels.at(name);
}

void apply_raw(const RawFlags& raw, AgentConfig& c) {
  for (const std::string& role : raw.roles) {
    c.source = c.source || role == "source";
    c.collector = c.collector || role == "collector";
  }
  c.sources = merge_sources(raw.sources);
  if (!raw.sink.empty() && !raw.sink_dir.empty()) throw ConfigError("--sink-dir", "give --sink or --sink-dir, not both");
  c.sink = raw.sink_dir.empty() ? raw.sink : "file:" + raw.sink_dir;
  c.log_level = to_log_level(raw.log_level);
  if (c.host.empty()) c.host = local_hostname();
  if (c.id.empty()) c.id = sanitize_id(c.host.empty() ? local_hostname() : c.host);
}

// CLI11's config-file errors, reworded to name the file and the key.
[[noreturn]] void throw_config_file_error(const CLI::ConfigError& e, const std::string& file) {
  std::string message = e.what();
  std::string where = "config file " + file;
  if (message.starts_with(kExtrasPrefix)) {
    std::string key = message.substr(kExtrasPrefix.size());
    if (key.ends_with(kSectionOpen)) {
      throw ConfigError(where, "unknown section [" + key.substr(0, key.size() - kSectionOpen.size()) +
                                   "] (keys are top-level)");
    }
    throw ConfigError(where, "unknown key '" + key + "'");
  }
  if (message.ends_with(kNotConfigurableSuffix)) {
    throw ConfigError(where, "key '" + message.substr(0, message.size() - kNotConfigurableSuffix.size()) +
                                 "' is not allowed in a config file");
  }
  throw ConfigError(where, message);
}

}  // namespace

ParseOutcome parse_agent_config(int argc, const char* const* argv) {
  ParseOutcome out;
  AgentConfig& c = out.config;
  RawFlags raw;
  CLI::App app{"corral-agent: tails log files (source role) and collects streams into a sink (collector role)",
               "corral-agent"};
  CLI::Option* config_flag =
      app.set_config("--config", "", "read flags from this TOML/INI file (keys: the flag names without dashes)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.set_version_flag("--version", std::string("corral-agent ") + kAgentVersion);
  add_options(app, c, raw);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.print_and_exit = app.help();
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.print_and_exit = app.help("", CLI::AppFormatMode::All);
    return out;
  } catch (const CLI::CallForVersion& e) {
    out.print_and_exit = std::string(e.what()) + "\n";
    return out;
  } catch (const CLI::ConfigError& e) {
    throw_config_file_error(e, config_flag->as<std::string>());
  } catch (const CLI::ExtrasError&) {
    throw ConfigError("", "unknown flag or argument: " + CLI::detail::join(app.remaining(), " "));
  } catch (const CLI::FileError& e) {
    throw ConfigError("--config", e.what());
  } catch (const CLI::ParseError& e) {
    throw ConfigError("", e.what());
  }
  c.config_file = config_flag->as<std::string>();
  apply_raw(raw, c);
  validate(c);
  return out;
}

}  // namespace corral::agent::config
