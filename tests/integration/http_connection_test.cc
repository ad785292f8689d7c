// The HTTP API's connection handling on a real member: "Expect:
// 100-continue" answered before the body is read (curl), an oversized
// Content-Length refused with 413 before any body is sent, and a long poll
// whose client goes away cancels its watch at once (the member's watcher
// gauge drops) instead of holding it until the poll's timeout.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"

using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr const char* kCurl = "/usr/bin/curl";
constexpr size_t kMaxRequestBytes = 64 * 1024;

struct OneMember {
  Cluster cluster;
  int port = 0;
  static ClusterOptions options() {
    ClusterOptions o;
    o.members = 1;
    o.http = true;
    o.extra_args = {"--max-request-bytes", std::to_string(kMaxRequestBytes)};
    return o;
  }
  OneMember() : cluster(options()) {
    cluster.start();
    REQUIRE(cluster.wait_for_leader());
    port = cluster.member(0).http_port;
  }
};

// The member's corral_mvcc_watchers gauge, or nullopt.
std::optional<long> watchers(int port) {
  auto a = http_request(port, "GET", "/metrics");
  if (a.status != 200) return std::nullopt;
  std::istringstream lines(a.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("corral_mvcc_watchers ", 0) == 0) return std::stol(line.substr(line.find(' ') + 1));
  }
  return std::nullopt;
}

// curl's exit code and output: "<status> <seconds>" on the last line.
RunResult curl_put(OneMember& m, const std::string& key, const std::string& body_file) {
  std::vector<std::string> args = {
      "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}\n", "-X", "PUT",
      "-H", "Content-Type: application/x-www-form-urlencoded", "-H", "Expect: 100-continue",
      // Without a 100 Continue curl would wait this long before sending the body.
      "--expect100-timeout", "20", "--data-binary", "@" + body_file,
      "http://127.0.0.1:" + std::to_string(m.port) + "/v1/keys" + key};
  return run_program(kCurl, args, m.cluster.root() + "/curl.out", 60s);
}

std::string write_body(OneMember& m, const std::string& name, size_t value_bytes) {
  const std::string path = m.cluster.root() + "/" + name;
  std::ofstream(path) << "value=" << std::string(value_bytes, 'v');
  return path;
}

}  // namespace

TEST_CASE("http: Expect: 100-continue is answered before the body, an oversized body refused before it is sent",
          "[http][http-connection]") {
  OneMember m;

  SECTION("curl's PUT with Expect goes on at once") {
    auto r = curl_put(m, "/big", write_body(m, "body-4k", 4096));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    int status = 0;
    double seconds = 0;
    std::istringstream(r.out) >> status >> seconds;
    CHECK(status == 201);
    // curl waits --expect100-timeout (20 s) when no 100 Continue comes.
    CHECK(seconds < 10.0);
    auto got = http_request(m.port, "GET", "/v1/keys/big");
    CHECK(got.json()["value"] == std::string(4096, 'v'));
  }

  SECTION("curl's PUT over --max-request-bytes gets 413 without sending the body") {
    auto r = curl_put(m, "/huge", write_body(m, "body-1m", 1 << 20));
    INFO(r.out);
    int status = 0;
    double seconds = 0;
    std::istringstream(r.out) >> status >> seconds;
    CHECK(status == 413);
    CHECK(seconds < 10.0);
    CHECK(http_request(m.port, "GET", "/v1/keys/huge").status == 404);
  }

  SECTION("a Content-Length past the bound is answered 413 though no body byte was sent") {
    auto a = http_raw(m.port,
                      "PUT /v1/keys/raw HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      "Expect: 100-continue\r\nContent-Length: 50000000\r\n\r\n",
                      10s);
    CHECK(a.status == 413);
    CHECK(a.json()["error"]["code"] == "tooLarge");
  }

  SECTION("a small Expect request gets 100 Continue first, then its answer") {
    const int fd = connect_loopback(m.port);
    REQUIRE(fd >= 0);
    const std::string head =
        "PUT /v1/keys/small HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Expect: 100-continue\r\nContent-Length: 7\r\nConnection: close\r\n\r\n";
    REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
    // The interim answer comes with no body sent yet.
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (got.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    INFO(got);
    CHECK(got.rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
    REQUIRE(::send(fd, "value=1", 7, MSG_NOSIGNAL) == 7);
    std::string rest;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n > 0) rest.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    INFO(rest);
    CHECK(rest.find("HTTP/1.1 201 Created\r\n") != std::string::npos);
  }
}

TEST_CASE("http: a long poll whose client goes away cancels its watch", "[http][http-connection]") {
  OneMember m;
  auto before = watchers(m.port);
  REQUIRE(before);
  constexpr int kPolls = 5;
  std::vector<int> fds;
  for (int i = 0; i < kPolls; ++i) {
    int fd = connect_loopback(m.port);
    REQUIRE(fd >= 0);
    // A timeout far past the test's deadlines: only the close can end it.
    const std::string req = "GET /v1/keys/lp/" + std::to_string(i) +
                            "?wait=true&timeout=300 HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    fds.push_back(fd);
  }
  long now = 0;
  REQUIRE(wait_until([&] { return (now = watchers(m.port).value_or(-1)) >= *before + kPolls; }, 10'000ms, 50ms));
  for (int fd : fds) ::close(fd);
  INFO("watchers before " << *before << ", with the polls " << now);
  CHECK(wait_until([&] { return (now = watchers(m.port).value_or(-1)) <= *before; }, 10'000ms, 50ms));
  INFO("after the clients left: " << now);

  // A poll that is answered still works on a kept-alive connection, and
  // the next request on it is read (the close watch hands over to it).
  const int fd = connect_loopback(m.port);
  REQUIRE(fd >= 0);
  const std::string poll = "GET /v1/keys/lp/x?wait=true&timeout=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, poll.data(), poll.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(poll.size()));
  std::string got;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    char buf[1024];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  INFO(got);
  CHECK(got.find("HTTP/1.1 408") != std::string::npos);
  CHECK(got.find("\"api\":\"v1\"") != std::string::npos);
}
