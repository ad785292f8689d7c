#include <catch2/catch.hpp>

#include "coordinator/http/listen_url.h"
#include "coordinator/http/route.h"
#include "coordinator/http/url_codec.h"

using namespace corral::http;

namespace {

Route routed(std::string_view method, std::string_view path) {
  auto r = route(method, path);
  REQUIRE(std::holds_alternative<Route>(r));
  return std::get<Route>(r);
}

RouteError refused(std::string_view method, std::string_view path) {
  auto r = route(method, path);
  REQUIRE(std::holds_alternative<RouteError>(r));
  return std::get<RouteError>(r);
}

}  // namespace

TEST_CASE("keys paths decode into keys, the bare prefix is the root") {
  CHECK(routed("GET", "/v1/keys/a/b").key == "/a/b");
  CHECK(routed("GET", "/v1/keys/a%20b/%2Fc").key == "/a b//c");
  CHECK(routed("GET", "/v1/keys").key == "/");
  CHECK(routed("GET", "/v1/keys/").key == "/");
  CHECK(routed("PUT", "/v1/keys/x").kind == RouteKind::kPutKey);
  CHECK(routed("DELETE", "/v1/keys/x").kind == RouteKind::kDeleteKey);
  CHECK(routed("GET", "/v1/watch/x").kind == RouteKind::kWatch);
  CHECK(refused("GET", "/v1/keys/%zz").error.status == 400);
}

TEST_CASE("unknown paths are 404, wrong methods 405 with Allow") {
  CHECK(refused("GET", "/v1/keysx").error.status == 404);
  CHECK(refused("GET", "/nope").error.code == "notFound");
  auto e = refused("PATCH", "/v1/keys/a");
  CHECK(e.error.status == 405);
  CHECK(e.error.code == "methodNotAllowed");
  CHECK(e.allow == "GET, PUT, POST, DELETE");
  CHECK(refused("GET", "/v1/txn").allow == "POST");
  CHECK(refused("POST", "/health").error.status == 405);
}

TEST_CASE("lease routes take hex ids") {
  CHECK(routed("POST", "/v1/leases").kind == RouteKind::kLeaseGrant);
  CHECK(routed("GET", "/v1/leases").kind == RouteKind::kLeaseList);
  auto r = routed("GET", "/v1/leases/1f");
  CHECK(r.kind == RouteKind::kLeaseGet);
  CHECK(r.lease == 0x1f);
  CHECK(routed("POST", "/v1/leases/1f/keepalive").kind == RouteKind::kLeaseKeepAlive);
  CHECK(routed("DELETE", "/v1/leases/1f").kind == RouteKind::kLeaseRevoke);
  CHECK(refused("GET", "/v1/leases/xyz").error.status == 400);
  CHECK(refused("GET", "/v1/leases/1f/other").error.status == 404);
  CHECK(lease_hex(0x694d7a8b1c2d3e4f) == "694d7a8b1c2d3e4f");
}

TEST_CASE("query strings and forms decode, the last of a name wins") {
  auto p = parse_params("a=1&b=x+y&c=%2F&a=2&flag");
  REQUIRE(p);
  CHECK(p->at("a") == "2");
  CHECK(p->at("b") == "x y");
  CHECK(p->at("c") == "/");
  CHECK(p->at("flag").empty());
  CHECK_FALSE(parse_params("a=%4"));
  CHECK_FALSE(percent_decode("%g0", false));
  CHECK(*percent_decode("a+b", false) == "a+b");
  auto t = split_target("/v1/keys/a?x=1");
  CHECK(t.path == "/v1/keys/a");
  CHECK(t.query == "x=1");
}

TEST_CASE("listen URLs") {
  auto u = parse_listen_url("https://127.0.0.1:8443");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->port == 8443);
  CHECK(to_string(*u) == "https://127.0.0.1:8443");
  CHECK(parse_listen_url("http://[::1]:80")->host == "::1");
  CHECK_FALSE(parse_listen_url("tcp://127.0.0.1:1"));
  CHECK_FALSE(parse_listen_url("http://127.0.0.1"));
  CHECK_FALSE(parse_listen_url("http://127.0.0.1:99999"));
}
