// corral-agent's configuration: flags, a config file, environment variables.
//
// Every setting is a long flag; the same name without the dashes is its key
// in a config file (--config FILE, TOML or INI, as CLI11 reads them) and,
// upper-cased with '-' as '_', the suffix of its environment variable:
//
//   flag                      config key              environment
//   --endpoints URL[,URL]     endpoints = "..."       CORRAL_AGENT_ENDPOINTS
//   --source APP/TOPIC=GLOB   source = ["...", "..."] CORRAL_AGENT_SOURCE
//   --lease-ttl-seconds N     lease-ttl-seconds = N   CORRAL_AGENT_LEASE_TTL_SECONDS
//
// Precedence (CLI11 2.1): command line, then the config file, then the
// environment; a list given in one place is not merged with another place.
// A config-file key that is no flag (a typo, a [section]) is an error naming
// the key, never ignored. --config itself has no environment variable.
//
// Settings (defaults in AgentConfig below):
//   --endpoints     corrald client endpoints tcp://HOST:PORT; comma-separated
//                   or repeated. Required.
//   --id            agent id (1..128 bytes of [A-Za-z0-9._-]); default: the
//                   host name with other bytes replaced by '-'.
//   --ip            this machine's address, the last segment of its stream
//                   keys. Required, no default: a guessed 127.0.0.1 would give
//                   every host the same stream keys, and a guessed interface
//                   address may not be the one people know the host by.
//   --host          host name for people; default: gethostname().
//   --roles         source, collector, or both (comma-separated). Required.
//   --listen        tcp://IP:PORT the fetch server binds; required for a
//                   source. Collectors are told advertised_endpoint(): the
//                   listen endpoint, with --ip in place of 0.0.0.0 or *.
//   --source        APP/TOPIC=GLOB, repeated (or ';'-separated in one value);
//                   APP and TOPIC are ids, GLOB an absolute glob(3) pattern.
//                   Repeating an APP/TOPIC adds globs to that stream (at most
//                   64); the same APP/TOPIC=GLOB twice is an error. A source
//                   needs at least one.
//   --sink          file:DIR | stdout | zmq:tcp://HOST:PORT |
//                   zmq-bind:tcp://IP:PORT (agent/sink/spec.h); a collector
//                   needs one.
//   --sink-dir      DIR: the same as --sink file:DIR (not both).
//   --capacity      1..1000000, a collector's weight (1).
//   --zone          optional zone label (an id).
//   --lease-ttl-seconds       2..300 (10).
//   --checkpoint-interval-ms  10..600000 (1000): how often a collector
//                             makes its sink durable and commits checkpoints.
//   --max-in-flight-fetches   1..64 (16), a collector's concurrent fetches
//                             per source (a source answers up to 64 per
//                             connection without dropping one).
//   --fetch-max-bytes         4096..4194304 (1048576), bytes per fetch reply.
//   --release-timeout-ms      100..600000 (5000): how long a revoking task
//                             may take to finish its batch and release.
//   --rotation-grace-ms       0..600000 (5000): a source moves a stream
//                             past a rotated file only once the file has
//                             stopped growing this long (a writer appends
//                             to the renamed file until it reopens: lines
//                             written after the move would be lost). The
//                             stream's new lines wait that long after each
//                             rotation; lower it when writers reopen at once.
//   --log-level               error | warn | info | debug (info).
//   --metrics-listen          IP:PORT: serve Prometheus metrics at
//                             http://IP:PORT/metrics (README "Metrics");
//                             off when empty (the default).
//   --curve-key-file FILE, --curve-server-key KEYS: CURVE to corrald, as
//                             corralctl's flags (the fetch server between
//                             agents stays plain).
//   --user, --password        the corral user the agent runs as, when the
//                             cluster has auth enabled (README, "Users and
//                             permissions": a role for an agent's keys).
//   --version, --help.
//
// Example: agent/config/example.conf.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/error.h"

namespace corral::agent::config {

enum class LogLevel : uint8_t { kError, kWarn, kInfo, kDebug };
const char* log_level_name(LogLevel level);

inline constexpr uint32_t kDefaultCapacity = 1;
inline constexpr uint32_t kMaxCapacity = 1'000'000;
inline constexpr uint32_t kDefaultLeaseTtlSeconds = 10;
inline constexpr uint32_t kMinLeaseTtlSeconds = 2;
inline constexpr uint32_t kMaxLeaseTtlSeconds = 300;
inline constexpr uint32_t kDefaultCheckpointIntervalMs = 1000;
inline constexpr uint32_t kMinCheckpointIntervalMs = 10;
inline constexpr uint32_t kMaxIntervalMs = 600'000;
inline constexpr uint32_t kDefaultMaxInFlightFetches = 16;
inline constexpr uint32_t kMaxInFlightFetches = 64;          // a source's per-connection window
inline constexpr uint32_t kDefaultFetchMaxBytes = 1u << 20;
inline constexpr uint32_t kMinFetchMaxBytes = 4096;
inline constexpr uint32_t kMaxFetchMaxBytes = 4u << 20;      // a fetch reply's data limit
inline constexpr uint32_t kDefaultReleaseTimeoutMs = 5000;
inline constexpr uint32_t kDefaultRotationGraceMs = 5000;
inline constexpr uint32_t kMinReleaseTimeoutMs = 100;
inline constexpr size_t kMaxGlobsPerSource = 64;

// One stream this agent serves: /apps/<app>/<topic>/<ip>.
struct StreamSource {
  std::string app;
  std::string topic;
  std::vector<std::string> globs;  // absolute, 1..kMaxGlobsPerSource, in the order given
  std::string name() const { return app + "/" + topic; }
  bool operator==(const StreamSource&) const = default;
};

struct AgentConfig {
  std::vector<std::string> endpoints;
  std::string user;                   // "" if none: anonymous
  std::string password;
  std::string id;
  std::string ip;
  std::string host;
  bool source = false;
  bool collector = false;
  std::string listen;
  std::vector<StreamSource> sources;  // one per APP/TOPIC, in the order first given
  std::string sink;                   // a sink spec (--sink-dir D gives "file:D"); "" if none
  uint32_t capacity = kDefaultCapacity;
  std::string zone;                   // "" if none
  uint32_t lease_ttl_seconds = kDefaultLeaseTtlSeconds;
  uint32_t checkpoint_interval_ms = kDefaultCheckpointIntervalMs;
  uint32_t max_in_flight_fetches = kDefaultMaxInFlightFetches;
  uint32_t fetch_max_bytes = kDefaultFetchMaxBytes;
  uint32_t release_timeout_ms = kDefaultReleaseTimeoutMs;
  uint32_t rotation_grace_ms = kDefaultRotationGraceMs;
  LogLevel log_level = LogLevel::kInfo;
  std::string metrics_listen;         // IP:PORT, "" for none
  std::string config_file;            // the file read, "" if none
  // CURVE to corrald (client/curve_options.h): this agent's key pair file
  // and the members' public keys; both or neither.
  std::string curve_key_file;
  std::string curve_server_key;
  // The wire to corrald (client/wire_flag.h): auto, tcp or zmq.
  std::string client_wire = "auto";

  // {"source"}, {"collector"} or {"source", "collector"}: the record's roles.
  std::vector<std::string> roles() const;
  // Where collectors fetch this source's streams: --listen, with --ip in
  // place of a wildcard host (0.0.0.0, *, [::]).
  std::string advertised_endpoint() const;
};

// What main does after parsing: run with `config`, or print `output` on
// stdout and exit 0 (--help, --version).
struct ParseOutcome {
  AgentConfig config;
  std::optional<std::string> print_and_exit;
};

// Parses flags, the config file and the environment, then validate()s.
// Throws ConfigError (one line naming the flag or key) for anything wrong.
ParseOutcome parse_agent_config(int argc, const char* const* argv);

// The rules across fields, for a config however it was built: a source needs
// --listen and a --source; a collector needs a sink; ids, ip, endpoints,
// globs and sink spec well-formed; ranges. Throws ConfigError.
void validate(const AgentConfig& config);

}  // namespace corral::agent::config
