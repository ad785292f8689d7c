#include "agent/config/rules.h"

#include <unistd.h>

#include <charconv>

namespace corral::agent::config {
namespace {

constexpr std::string_view kTcpScheme = "tcp://";
constexpr size_t kHostNameBuffer = 256;
constexpr uint32_t kMaxPort = 65535;

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    if (!id_char(c)) return false;
  }
  return true;
}

bool valid_machine_ip(std::string_view ip) {
  if (ip.empty() || ip.size() > kMaxMachineIpBytes) return false;
  for (char c : ip) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string sanitize_id(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxIdBytes)) out.push_back(id_char(c) ? c : '-');
  return out.empty() ? "agent" : out;
}

std::optional<TcpEndpoint> parse_tcp_endpoint(std::string_view endpoint) {
  if (!endpoint.starts_with(kTcpScheme)) return std::nullopt;
  std::string_view rest = endpoint.substr(kTcpScheme.size());
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
  if (!bracketed && host.find_first_of(":[]/ ") != std::string_view::npos) return std::nullopt;
  uint32_t number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > kMaxPort) {
    return std::nullopt;
  }
  return TcpEndpoint{std::string(host), static_cast<uint16_t>(number)};
}

std::string local_hostname() {
  char name[kHostNameBuffer + 1] = {};
  if (::gethostname(name, kHostNameBuffer) != 0) return "";
  return name;
}

}  // namespace corral::agent::config
