#include "agent/config/config.h"

#include "agent/config/rules.h"

namespace corral::agent::config {

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "info";
}

std::vector<std::string> AgentConfig::roles() const {
  std::vector<std::string> out;
  if (source) out.emplace_back("source");
  if (collector) out.emplace_back("collector");
  return out;
}

std::string AgentConfig::advertised_endpoint() const {
  auto parsed = parse_tcp_endpoint(listen);
  if (!parsed) return listen;
  bool wildcard = parsed->host == "0.0.0.0" || parsed->host == "*" || parsed->host == "[::]";
  if (!wildcard) return listen;
  std::string host = ip.find(':') == std::string::npos ? ip : "[" + ip + "]";
  return "tcp://" + host + ":" + std::to_string(parsed->port);
}

}  // namespace corral::agent::config
