// The HTTP API with auth enabled: a password login gives a token, the token
// carries the user's permissions, and a missing, forged or refused identity
// gets the JSON error of its kind (401, 403) and changes nothing.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

void check_error(const HttpAnswer& a, int status, const std::string& code) {
  INFO(a.status << " " << a.body);
  CHECK(a.status == status);
  json j = a.json();
  REQUIRE(j.is_object());
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["code"] == code);
}

std::vector<std::string> bearer(const std::string& token) { return {"Authorization: Bearer " + token}; }

}  // namespace

TEST_CASE("http: with auth enabled, a login token carries its user's permissions", "[integration][http][auth]") {
  ClusterOptions o;
  o.http = true;
  Cluster cluster(o);
  cluster.start();
  const int port = cluster.member(0).http_port;
  {
    auto admin = cluster.client();
    require_ok(admin->user_add("root", "root-pw"), "user add root");
    require_ok(admin->role_add("svc"), "role add");
    client::AuthPermission perm;
    perm.type = client::AuthPermission::Type::kReadWrite;
    perm.key = "/svc/";
    perm.range_end = client::prefix_range_end("/svc/");
    require_ok(admin->role_grant_permission("svc", perm), "grant");
    require_ok(admin->user_add("alice", "alice-pw"), "user add alice");
    require_ok(admin->user_grant_role("alice", "svc"), "grant role");
    require_ok(admin->auth_enable(), "auth enable");
  }

  // Password login.
  auto login = http_request(port, "POST", "/v1/auth/authenticate", "name=alice&password=alice-pw");
  INFO(login.body);
  REQUIRE(login.status == 200);
  const std::string token = login.json()["token"].get<std::string>();
  REQUIRE_FALSE(token.empty());
  check_error(http_request(port, "POST", "/v1/auth/authenticate", "name=alice&password=wrong"), 401,
              "unauthenticated");
  check_error(http_request(port, "POST", "/v1/auth/authenticate", "name=alice"), 400, "badRequest");

  // Inside the permission: served, on any member.
  auto put = http_request(port, "PUT", "/v1/keys/svc/a", "value=1", "application/x-www-form-urlencoded", 10'000ms,
                          bearer(token));
  INFO(put.body);
  CHECK(put.status == 201);
  auto got = http_request(cluster.member(1).http_port, "GET", "/v1/keys/svc/a", {}, "application/x-www-form-urlencoded",
                          10'000ms, bearer(token));
  CHECK(got.status == 200);
  CHECK(got.json()["value"] == "1");

  // Outside it, without a token, with a forged one: refused, nothing written.
  check_error(http_request(port, "PUT", "/v1/keys/other/x", "value=1", "application/x-www-form-urlencoded", 10'000ms,
                           bearer(token)),
              403, "permissionDenied");
  check_error(http_request(port, "PUT", "/v1/keys/svc/b", "value=1"), 403, "permissionDenied");
  check_error(http_request(port, "GET", "/v1/keys/svc/a"), 403, "permissionDenied");
  check_error(http_request(port, "PUT", "/v1/keys/svc/b", "value=1", "application/x-www-form-urlencoded", 10'000ms,
                           bearer(token + "x")),
              401, "unauthenticated");
  auto root_login = http_request(port, "POST", "/v1/auth/authenticate", "name=root&password=root-pw");
  REQUIRE(root_login.status == 200);
  const std::string root_token = root_login.json()["token"].get<std::string>();
  auto other = http_request(port, "GET", "/v1/keys/other/x", {}, "application/x-www-form-urlencoded", 10'000ms,
                            bearer(root_token));
  CHECK(other.status == 404);
  auto b = http_request(port, "GET", "/v1/keys/svc/b", {}, "application/x-www-form-urlencoded", 10'000ms,
                        bearer(root_token));
  CHECK(b.status == 404);
}
