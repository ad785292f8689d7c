#include "coordinator/net/endpoint.h"

#include <arpa/inet.h>

#include <charconv>

namespace corral::net {
namespace {

Error bad(std::string_view text, std::string what) {
  return make_error(ErrorCode::kBadRequest,
                    "endpoint '" + std::string(text) + "': " + std::move(what));
}

// Canonical text of a numeric address, or empty if it is not one.
std::string canonical_address(const std::string& host, int family) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(family, host.c_str(), buf) != 1) return {};
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, buf, out, sizeof(out)) == nullptr) return {};
  return out;
}

}  // namespace

std::string Endpoint::host_port() const {
  std::string out;
  if (ipv6) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

Result<Endpoint> parse_endpoint(std::string_view text, EndpointUse use) {
  const std::string_view original = text;
  if (text.empty()) return bad(original, "empty");
  if (text.size() > kMaxEndpointTextBytes) {
    return bad(original.substr(0, 32), "longer than " + std::to_string(kMaxEndpointTextBytes) +
                                           " bytes");
  }
  // inet_pton reads C strings: an embedded NUL would hide what follows it.
  for (const char ch : text) {
    if (ch <= ' ' || ch > '~') return bad(original, "contains a space or non-printable byte");
  }
  const size_t scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) {
    if (text.substr(0, scheme_end) != "tcp") {
      return bad(original, "unsupported scheme '" + std::string(text.substr(0, scheme_end)) +
                               "' (only tcp)");
    }
    text.remove_prefix(scheme_end + 3);
  }

  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad(original, "IPv6 address missing ']'");
    const std::string host(text.substr(1, close - 1));
    if (host.empty()) return bad(original, "empty IPv6 address");
    ep.host = canonical_address(host, AF_INET6);
    if (ep.host.empty()) return bad(original, "'" + host + "' is not an IPv6 address");
    ep.ipv6 = true;
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad(original, "missing ':PORT' after ']'");
    port_text = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad(original, "missing ':PORT'");
    const std::string host(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.empty()) return bad(original, "empty host");
    if (host.find(':') != std::string::npos) {
      return bad(original, "IPv6 address must be written in brackets, e.g. [::1]:2380");
    }
    if (host == "localhost") {
      ep.host = "127.0.0.1";
    } else {
      ep.host = canonical_address(host, AF_INET);
      if (ep.host.empty()) {
        return bad(original, "host '" + host +
                                 "' is not an IPv4 address, [IPv6] address or localhost");
      }
    }
  }

  if (port_text.empty()) return bad(original, "empty port");
  uint32_t port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(),
                                         port);
  if (ec == std::errc::result_out_of_range) {
    return bad(original, "port out of range 0..65535");
  }
  if (ec != std::errc() || end != port_text.data() + port_text.size()) {
    return bad(original, "port '" + std::string(port_text) + "' is not a decimal number");
  }
  if (port > kMaxPortNumber) return bad(original, "port " + std::to_string(port) +
                                                      " out of range 0..65535");
  if (port == 0 && use == EndpointUse::kConnect) {
    return bad(original, "port 0 is only valid for binding");
  }
  ep.port = static_cast<uint16_t>(port);
  return ep;
}

}  // namespace corral::net
