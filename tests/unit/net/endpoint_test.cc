#include "coordinator/net/endpoint.h"

#include <catch2/catch.hpp>
#include <string>

using corral::ErrorCode;
using corral::net::EndpointUse;
using corral::net::parse_endpoint;

TEST_CASE("endpoint: valid forms are normalised", "[net][endpoint]") {
  struct Row {
    const char* text;
    EndpointUse use;
    const char* zmq;
    uint16_t port;
    bool ipv6;
  };
  const Row rows[] = {
      {"127.0.0.1:2380", EndpointUse::kConnect, "tcp://127.0.0.1:2380", 2380, false},
      {"tcp://10.1.2.3:1", EndpointUse::kConnect, "tcp://10.1.2.3:1", 1, false},
      {"localhost:65535", EndpointUse::kConnect, "tcp://127.0.0.1:65535", 65535, false},
      {"tcp://localhost:80", EndpointUse::kConnect, "tcp://127.0.0.1:80", 80, false},
      {"[::1]:2380", EndpointUse::kConnect, "tcp://[::1]:2380", 2380, true},
      {"tcp://[0:0:0:0:0:0:0:1]:9", EndpointUse::kConnect, "tcp://[::1]:9", 9, true},
      {"[fe80::1:2]:7", EndpointUse::kConnect, "tcp://[fe80::1:2]:7", 7, true},
      {"tcp://127.0.0.1:0", EndpointUse::kBind, "tcp://127.0.0.1:0", 0, false},
      {"0.0.0.0:2379", EndpointUse::kBind, "tcp://0.0.0.0:2379", 2379, false},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    auto ep = parse_endpoint(row.text, row.use);
    REQUIRE(ep.ok());
    CHECK(ep->to_zmq() == row.zmq);
    CHECK(ep->port == row.port);
    CHECK(ep->ipv6 == row.ipv6);
    // Normalised text parses to the same endpoint.
    auto again = parse_endpoint(ep->to_zmq(), row.use);
    REQUIRE(again.ok());
    CHECK(*again == *ep);
  }
}

TEST_CASE("endpoint: garbage is a typed error naming the problem", "[net][endpoint]") {
  struct Row {
    std::string text;
    EndpointUse use;
    const char* names;  // a fragment the error message must contain
  };
  const Row rows[] = {
      {"", EndpointUse::kConnect, "empty"},
      {"127.0.0.1", EndpointUse::kConnect, "missing ':PORT'"},
      {"127.0.0.1:", EndpointUse::kConnect, "empty port"},
      {":2380", EndpointUse::kConnect, "empty host"},
      {"udp://127.0.0.1:1", EndpointUse::kConnect, "unsupported scheme 'udp'"},
      {"ipc:///tmp/x", EndpointUse::kConnect, "unsupported scheme"},
      {"127.0.0.1:65536", EndpointUse::kConnect, "out of range"},
      {"127.0.0.1:99999999999999999999", EndpointUse::kConnect, "out of range"},
      {"127.0.0.1:-1", EndpointUse::kConnect, "not a decimal number"},
      {"127.0.0.1:+1", EndpointUse::kConnect, "not a decimal number"},
      {"127.0.0.1:12ab", EndpointUse::kConnect, "not a decimal number"},
      {"127.0.0.1:80/path", EndpointUse::kConnect, "not a decimal number"},
      {"127.0.0.1:0", EndpointUse::kConnect, "only valid for binding"},
      {"256.0.0.1:1", EndpointUse::kConnect, "not an IPv4 address"},
      {"1.2.3:1", EndpointUse::kConnect, "not an IPv4 address"},
      {"01.2.3.4:1", EndpointUse::kConnect, "not an IPv4 address"},
      {"example.com:80", EndpointUse::kConnect, "not an IPv4 address"},
      {"*:80", EndpointUse::kBind, "not an IPv4 address"},
      {"::1:80", EndpointUse::kConnect, "in brackets"},
      {"[::1:80", EndpointUse::kConnect, "missing ']'"},
      {"[]:80", EndpointUse::kConnect, "empty IPv6"},
      {"[::g]:80", EndpointUse::kConnect, "not an IPv6 address"},
      {"[127.0.0.1]:80", EndpointUse::kConnect, "not an IPv6 address"},
      {"[::1]80", EndpointUse::kConnect, "missing ':PORT' after ']'"},
      {"[::1]", EndpointUse::kConnect, "missing ':PORT' after ']'"},
      {std::string("127.0.0.1\0:1", 12), EndpointUse::kConnect, "non-printable"},
      {"127.0.0.1: 1", EndpointUse::kConnect, "space"},
      {std::string(500, 'x'), EndpointUse::kConnect, "longer than"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    auto ep = parse_endpoint(row.text, row.use);
    REQUIRE_FALSE(ep.ok());
    CHECK(ep.error().code == ErrorCode::kBadRequest);
    CHECK_THAT(ep.error().message, Catch::Contains(row.names));
  }
}
