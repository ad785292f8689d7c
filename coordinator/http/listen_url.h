// --listen-http URLs: http://IP:PORT or https://IP:PORT (an IPv4 or
// bracketed IPv6 address; port 0 lets the system choose).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corral::http {

struct ListenUrl {
  bool tls = false;
  std::string host;  // without brackets
  int port = 0;
};

std::optional<ListenUrl> parse_listen_url(std::string_view url);
std::string to_string(const ListenUrl& url);

}  // namespace corral::http
