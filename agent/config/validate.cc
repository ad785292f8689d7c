#include <string>

#include "agent/config/config.h"
#include "agent/config/rules.h"
#include "agent/config/source_spec.h"
#include "agent/sink/spec.h"

namespace corral::agent::config {
namespace {

constexpr const char* kIdRule = "1..128 bytes of [A-Za-z0-9._-]";

void check_range(const char* flag, uint32_t value, uint32_t lo, uint32_t hi) {
  if (value < lo || value > hi) {
    throw ConfigError(flag, std::to_string(value) + " is not in " + std::to_string(lo) + ".." + std::to_string(hi));
  }
}

void check_identity(const AgentConfig& c) {
  if (c.endpoints.empty()) throw ConfigError("--endpoints", "required: corrald client endpoints tcp://HOST:PORT[,...]");
  for (const std::string& e : c.endpoints) {
    if (!parse_tcp_endpoint(e)) throw ConfigError("--endpoints", "'" + e + "' is not tcp://HOST:PORT");
  }
  if (!valid_id(c.id)) throw ConfigError("--id", "'" + c.id + "' is not " + kIdRule);
  if (c.ip.empty()) throw ConfigError("--ip", "required: this machine's address, the last segment of its stream keys");
  if (!valid_machine_ip(c.ip)) throw ConfigError("--ip", "'" + c.ip + "' is not 1..64 bytes of [0-9A-Za-z.:-]");
  if (c.host.size() > kMaxHostBytes) throw ConfigError("--host", "longer than 256 bytes");
  if (!c.zone.empty() && !valid_id(c.zone)) throw ConfigError("--zone", "'" + c.zone + "' is not " + kIdRule);
}

void check_source_role(const AgentConfig& c) {
  if (!c.source) {
    if (!c.listen.empty()) throw ConfigError("--listen", "given but --roles has no source");
    if (!c.sources.empty()) throw ConfigError("--source", "given but --roles has no source");
    return;
  }
  if (c.listen.empty()) throw ConfigError("--listen", "required for the source role: tcp://IP:PORT to serve fetches on");
  if (!parse_tcp_endpoint(c.listen)) throw ConfigError("--listen", "'" + c.listen + "' is not tcp://IP:PORT");
  if (c.sources.empty()) throw ConfigError("--source", "the source role needs at least one APP/TOPIC=GLOB");
  for (size_t i = 0; i < c.sources.size(); ++i) {
    if (std::string problem = stream_source_problem(c.sources[i]); !problem.empty()) {
      throw ConfigError("--source", problem);
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.sources[j].name() == c.sources[i].name()) throw ConfigError("--source", "'" + c.sources[i].name() + "' twice");
    }
  }
}

void check_collector_role(const AgentConfig& c) {
  if (!c.collector) {
    if (!c.sink.empty()) throw ConfigError("--sink", "given but --roles has no collector");
    return;
  }
  if (c.sink.empty()) throw ConfigError("--sink", "required for the collector role: file:DIR, stdout or zmq:tcp://HOST:PORT");
  if (auto spec = sink::parse_sink_spec(c.sink); !spec.ok()) throw ConfigError("--sink", spec.error().message);
}

// IP:PORT (an IPv6 address in brackets); the address itself is checked
// when the server binds it.
void check_metrics_listen(const std::string& v) {
  if (v.empty()) return;
  const auto colon = v.rfind(':');
  const std::string port = colon == std::string::npos ? "" : v.substr(colon + 1);
  bool ok = colon != std::string::npos && colon > 0 && !port.empty() && port.size() <= 5 &&
            port.find_first_not_of("0123456789") == std::string::npos && std::stoul(port) <= 65535;
  if (!ok) throw ConfigError("--metrics-listen", "'" + v + "' is not IP:PORT");
}

}  // namespace

void validate(const AgentConfig& c) {
  check_identity(c);
  if (!c.source && !c.collector) throw ConfigError("--roles", "required: source, collector or source,collector");
  check_source_role(c);
  check_collector_role(c);
  check_range("--capacity", c.capacity, 1, kMaxCapacity);
  check_range("--lease-ttl-seconds", c.lease_ttl_seconds, kMinLeaseTtlSeconds, kMaxLeaseTtlSeconds);
  check_range("--checkpoint-interval-ms", c.checkpoint_interval_ms, kMinCheckpointIntervalMs, kMaxIntervalMs);
  check_range("--max-in-flight-fetches", c.max_in_flight_fetches, 1, kMaxInFlightFetches);
  check_range("--fetch-max-bytes", c.fetch_max_bytes, kMinFetchMaxBytes, kMaxFetchMaxBytes);
  check_range("--release-timeout-ms", c.release_timeout_ms, kMinReleaseTimeoutMs, kMaxIntervalMs);
  check_range("--rotation-grace-ms", c.rotation_grace_ms, 0, kMaxIntervalMs);
  check_metrics_listen(c.metrics_listen);
}

}  // namespace corral::agent::config
