#include "coordinator/http/listen_url.h"

#include <charconv>

namespace corral::http {

std::optional<ListenUrl> parse_listen_url(std::string_view url) {
  ListenUrl out;
  if (url.substr(0, 7) == "http://") {
    url.remove_prefix(7);
  } else if (url.substr(0, 8) == "https://") {
    out.tls = true;
    url.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = url.substr(0, colon);
  std::string_view port = url.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || out.port < 0 || out.port > 65535) {
    return std::nullopt;
  }
  out.host = std::string(host);
  return out;
}

std::string to_string(const ListenUrl& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return std::string(url.tls ? "https://" : "http://") + host + ":" + std::to_string(url.port);
}

}  // namespace corral::http
