#include <catch2/catch.hpp>

#include "agent/config/config.h"
#include "agent/config/rules.h"

namespace corral::agent::config {

TEST_CASE("valid_id and valid_machine_ip follow the key space's rules", "[agent_config][rules]") {
  CHECK(valid_id("web-1.a_b"));
  CHECK(valid_id(std::string(128, 'a')));
  CHECK_FALSE(valid_id(std::string(129, 'a')));
  CHECK_FALSE(valid_id(""));
  CHECK_FALSE(valid_id("web 1"));
  CHECK_FALSE(valid_id("web/1"));
  CHECK(valid_machine_ip("10.0.0.11"));
  CHECK(valid_machine_ip("fe80::1"));
  CHECK_FALSE(valid_machine_ip("10.0.0.11/24"));
  CHECK_FALSE(valid_machine_ip(std::string(65, '1')));
}

TEST_CASE("sanitize_id turns a host name into a valid id", "[agent_config][rules]") {
  CHECK(sanitize_id("web-1.example.net") == "web-1.example.net");
  CHECK(sanitize_id("my host!") == "my-host-");
  CHECK(sanitize_id("") == "agent");
  CHECK(sanitize_id(std::string(300, 'h')).size() == kMaxIdBytes);
  CHECK(valid_id(sanitize_id("ü@x")));
}

TEST_CASE("parse_tcp_endpoint accepts tcp://HOST:PORT only", "[agent_config][rules]") {
  auto e = parse_tcp_endpoint("tcp://10.0.0.1:2379");
  REQUIRE(e);
  CHECK(e->host == "10.0.0.1");
  CHECK(e->port == 2379);
  auto v6 = parse_tcp_endpoint("tcp://[::1]:7070");
  REQUIRE(v6);
  CHECK(v6->host == "[::1]");
  CHECK(parse_tcp_endpoint("tcp://*:7070"));
  for (const char* bad : {"", "10.0.0.1:2379", "udp://h:1", "tcp://h", "tcp://:1", "tcp://h:0", "tcp://h:65536",
                          "tcp://h:12x", "tcp://::1:80", "tcp://h:"}) {
    INFO(bad);
    CHECK_FALSE(parse_tcp_endpoint(bad));
  }
}

TEST_CASE("advertised_endpoint puts --ip in place of a wildcard listen host", "[agent_config][rules]") {
  AgentConfig c;
  c.ip = "10.0.0.11";
  c.listen = "tcp://0.0.0.0:7070";
  CHECK(c.advertised_endpoint() == "tcp://10.0.0.11:7070");
  c.listen = "tcp://*:7070";
  CHECK(c.advertised_endpoint() == "tcp://10.0.0.11:7070");
  c.listen = "tcp://192.168.1.5:7070";
  CHECK(c.advertised_endpoint() == "tcp://192.168.1.5:7070");
  c.ip = "fe80::1";
  c.listen = "tcp://[::]:7070";
  CHECK(c.advertised_endpoint() == "tcp://[fe80::1]:7070");
}

TEST_CASE("roles() lists the record's roles", "[agent_config][rules]") {
  AgentConfig c;
  c.source = true;
  CHECK(c.roles() == std::vector<std::string>{"source"});
  c.collector = true;
  CHECK(c.roles() == std::vector<std::string>{"source", "collector"});
  c.source = false;
  CHECK(c.roles() == std::vector<std::string>{"collector"});
}

}  // namespace corral::agent::config
