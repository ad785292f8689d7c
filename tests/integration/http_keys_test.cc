// The HTTP API on a real 3-member cluster (every member with --listen-http):
// keys (put, get, directories, recursive, delete), compare-and-swap and each
// of its failure modes, TTLs and the lease routes, txn, the cluster routes,
// and every error shape. Writes go to a follower's HTTP port, so the
// client library's leader following is exercised too.
#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <string>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"

using namespace corral::integration;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

ClusterOptions with_http(int members) {
  ClusterOptions o;
  o.members = members;
  o.http = true;
  return o;
}

struct HttpCluster {
  Cluster cluster{with_http(3)};
  size_t leader = 0;
  int follower_port = 0;
  int leader_port = 0;
  HttpCluster() {
    cluster.start();
    auto l = cluster.wait_for_leader();
    REQUIRE(l);
    leader = *l;
    leader_port = cluster.member(leader).http_port;
    follower_port = cluster.member((leader + 1) % cluster.size()).http_port;
  }
};

HttpAnswer put(int port, const std::string& key, const std::string& form) {
  return http_request(port, "PUT", "/v1/keys" + key, form);
}
HttpAnswer get(int port, const std::string& target) { return http_request(port, "GET", target); }

void check_error(const HttpAnswer& a, int status, const std::string& code) {
  INFO(a.status << " " << a.body);
  CHECK(a.status == status);
  json j = a.json();
  REQUIRE(j.is_object());
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["code"] == code);
  CHECK(j["error"]["message"].is_string());
}

}  // namespace

TEST_CASE("http: keys put, get, directories, recursive and delete through a follower") {
  HttpCluster h;
  const int f = h.follower_port;
  auto created = put(f, "/svc/web/access/10.0.0.1", "value=one");
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["version"] == 1);
  auto again = put(f, "/svc/web/access/10.0.0.1", "value=uno");
  REQUIRE(again.status == 200);
  CHECK(again.json()["version"] == 2);
  CHECK(again.json()["prevKv"]["value"] == "one");
  REQUIRE(http_request(f, "PUT", "/v1/keys/svc/web/error/10.0.0.2", R"({"value":"two"})", "application/json").status == 201);
  REQUIRE(put(f, "/svc/db/slow/10.0.0.3", "value=three").status == 201);
  REQUIRE(put(f, "/bin", "valueEncoding=base64&value=AP8%3D").status == 201);

  auto one = get(h.leader_port, "/v1/keys/svc/web/access/10.0.0.1");
  REQUIRE(one.status == 200);
  json kv = one.json();
  CHECK(kv["key"] == "/svc/web/access/10.0.0.1");
  CHECK(kv["value"] == "uno");
  CHECK(kv["modRevision"].get<int64_t>() > kv["createRevision"].get<int64_t>());
  CHECK(kv["revision"].get<int64_t>() >= kv["modRevision"].get<int64_t>());
  CHECK_FALSE(kv.contains("lease"));

  auto bin = get(f, "/v1/keys/bin").json();
  CHECK(bin["value"] == "AP8=");
  CHECK(bin["valueEncoding"] == "base64");

  auto dir = get(f, "/v1/keys/svc/web");
  REQUIRE(dir.status == 200);
  json d = dir.json();
  CHECK(d["dir"] == true);
  REQUIRE(d["nodes"].size() == 2);
  CHECK(d["nodes"][0]["key"] == "/svc/web/access");
  CHECK(d["nodes"][0]["dir"] == true);
  CHECK(d["nodes"][1]["key"] == "/svc/web/error");

  auto root = get(f, "/v1/keys/").json();
  CHECK(root["nodes"].size() == 2);  // /svc (dir) and /bin (key)

  auto rec = get(f, "/v1/keys/svc?recursive=true");
  REQUIRE(rec.status == 200);
  json r = rec.json();
  REQUIRE(r["nodes"].size() == 3);
  CHECK(r["nodes"][0]["key"] == "/svc/db/slow/10.0.0.3");
  CHECK(r["nodes"][1]["value"] == "uno");
  CHECK(r["nodes"][2]["value"] == "two");

  check_error(get(f, "/v1/keys/nothing/here"), 404, "keyNotFound");
  check_error(http_request(f, "DELETE", "/v1/keys/nothing"), 404, "keyNotFound");

  auto del = http_request(f, "DELETE", "/v1/keys/svc/db/slow/10.0.0.3");
  REQUIRE(del.status == 200);
  CHECK(del.json()["deleted"] == 1);
  CHECK(del.json()["prevKv"]["value"] == "three");
  auto subtree = http_request(f, "DELETE", "/v1/keys/svc?recursive=true");
  REQUIRE(subtree.status == 200);
  CHECK(subtree.json()["deleted"] == 2);
  check_error(get(f, "/v1/keys/svc?recursive=true"), 404, "keyNotFound");
  // A key that only shares the name's beginning survives a recursive delete.
  REQUIRE(put(f, "/x-y", "value=1").status == 201);
  REQUIRE(put(f, "/x/z", "value=2").status == 201);
  REQUIRE(http_request(f, "DELETE", "/v1/keys/x?recursive=true").json()["deleted"] == 1);
  CHECK(get(f, "/v1/keys/x-y").status == 200);
}

TEST_CASE("http: compare-and-swap, each failure mode answers 412 with the current kv") {
  HttpCluster h;
  const int f = h.follower_port;
  REQUIRE(put(f, "/cas", "value=a&prevExist=false").status == 201);
  auto exists = put(f, "/cas", "value=b&prevExist=false");
  check_error(exists, 412, "compareFailed");
  CHECK(exists.json()["error"]["current"]["value"] == "a");
  check_error(put(f, "/missing", "value=b&prevExist=true"), 412, "compareFailed");
  CHECK(put(f, "/missing", "value=b&prevExist=true").json()["error"]["current"].is_null());
  check_error(put(f, "/missing", "value=b&prevValue=a"), 412, "compareFailed");
  auto wrong_value = put(f, "/cas", "value=b&prevValue=zzz");
  check_error(wrong_value, 412, "compareFailed");
  const int64_t rev = wrong_value.json()["error"]["current"]["modRevision"];
  check_error(put(f, "/cas", "value=b&prevRevision=" + std::to_string(rev + 100)), 412, "compareFailed");
  auto ok = put(f, "/cas", "value=b&prevValue=a&prevRevision=" + std::to_string(rev));
  INFO(ok.body);
  REQUIRE(ok.status == 200);
  CHECK(ok.json()["value"] == "b");
  CHECK(get(f, "/v1/keys/cas").json()["value"] == "b");
  CHECK(put(f, "/cas", "value=c&prevExist=true").status == 200);

  check_error(http_request(f, "DELETE", "/v1/keys/cas?prevValue=nope"), 412, "compareFailed");
  const int64_t now = get(f, "/v1/keys/cas").json()["modRevision"];
  check_error(http_request(f, "DELETE", "/v1/keys/cas?prevRevision=" + std::to_string(now - 1)), 412, "compareFailed");
  CHECK(get(f, "/v1/keys/cas").status == 200);
  CHECK(http_request(f, "DELETE", "/v1/keys/cas?prevValue=c&prevRevision=" + std::to_string(now)).status == 200);
  check_error(get(f, "/v1/keys/cas"), 404, "keyNotFound");
}

TEST_CASE("http: ttl expiry and the lease routes") {
  HttpCluster h;
  const int f = h.follower_port;
  auto leased = put(f, "/ttl/key", "value=v&ttl=1");
  INFO(leased.body);
  REQUIRE(leased.status == 201);
  const std::string lease = leased.json()["lease"];
  auto info = get(f, "/v1/leases/" + lease + "?keys=true");
  REQUIRE(info.status == 200);
  CHECK(info.json()["keys"] == json::array({"/ttl/key"}));
  // Granted TTLs are raised to 1.5 election timeouts at least; the key goes within a few seconds.
  CHECK(wait_until([&] { return get(f, "/v1/keys/ttl/key").status == 404; }, 10s, 50ms));
  check_error(get(f, "/v1/leases/" + lease), 404, "leaseNotFound");

  auto granted = http_request(f, "POST", "/v1/leases", "ttl=30");
  REQUIRE(granted.status == 201);
  const std::string id = granted.json()["id"];
  CHECK(granted.json()["ttl"].get<int64_t>() >= 30);
  REQUIRE(put(f, "/held", "value=v&lease=" + id).status == 201);
  CHECK(get(f, "/v1/keys/held").json()["lease"] == id);
  auto kept = http_request(f, "POST", "/v1/leases/" + id + "/keepalive");
  REQUIRE(kept.status == 200);
  CHECK(kept.json()["ttl"].get<int64_t>() > 0);
  auto list = get(f, "/v1/leases").json();
  bool listed = false;
  for (const auto& l : list["leases"]) listed = listed || l["id"] == id;
  CHECK(listed);
  auto ttl = get(f, "/v1/leases/" + id).json();
  CHECK(ttl["grantedTtl"].get<int64_t>() >= 30);
  REQUIRE(http_request(f, "DELETE", "/v1/leases/" + id).status == 200);
  check_error(get(f, "/v1/keys/held"), 404, "keyNotFound");
  check_error(http_request(f, "POST", "/v1/leases/" + id + "/keepalive"), 404, "leaseNotFound");
  check_error(http_request(f, "POST", "/v1/leases", "ttl=zero"), 400, "badRequest");
}

TEST_CASE("http: txn, members, status, health, version, metrics") {
  HttpCluster h;
  const int f = h.follower_port;
  REQUIRE(put(f, "/t/a", "value=1").status == 201);
  const std::string txn = R"({"compare":[{"key":"/t/a","target":"value","result":"=","value":"1"}],
      "success":[{"put":{"key":"/t/b","value":"2"}},{"get":{"key":"/t/","prefix":true}}],
      "failure":[{"delete":{"key":"/t/a"}}]})";
  auto won = http_request(f, "POST", "/v1/txn", txn, "application/json");
  INFO(won.body);
  REQUIRE(won.status == 200);
  json w = won.json();
  CHECK(w["succeeded"] == true);
  REQUIRE(w["responses"].size() == 2);
  CHECK(w["responses"][1]["get"]["count"] == 2);
  CHECK(w["responses"][1]["get"]["kvs"][1]["value"] == "2");
  REQUIRE(put(f, "/t/a", "value=changed").status == 200);
  auto lost = http_request(f, "POST", "/v1/txn", txn, "application/json").json();
  CHECK(lost["succeeded"] == false);
  CHECK(lost["responses"][0]["delete"]["deleted"] == 1);
  check_error(http_request(f, "POST", "/v1/txn", R"({"success":[{"nope":{}}]})", "application/json"), 400, "badRequest");

  auto members = get(f, "/v1/members").json();
  CHECK(members["members"].size() == 3);
  auto status = get(f, "/v1/status");
  REQUIRE(status.status == 200);
  CHECK(status.json()["leader"].get<std::string>() != "0");
  CHECK(status.json()["memberId"] != status.json()["leader"]);  // this member: a follower
  auto health = get(f, "/health");
  CHECK(health.status == 200);
  CHECK(health.json()["health"] == true);
  CHECK(get(f, "/version").json()["server"].get<std::string>().find("corral") == 0);
  auto metrics = get(f, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("# TYPE corral_server_is_leader gauge") != std::string::npos);  // the member registry (main wires it)

  // A member that lost its quorum is not healthy.
  for (size_t i = 0; i < h.cluster.size(); ++i) {
    if (h.cluster.member(i).http_port != f) h.cluster.signal_member(i, SIGKILL);
  }
  auto sick = http_request(f, "GET", "/health", {}, {}, 15s);
  INFO(sick.body);
  CHECK(sick.status == 503);
  CHECK(sick.json()["health"] == false);
  CHECK(sick.headers.count("retry-after") == 1);
}

TEST_CASE("http: every error shape, and the connection stays usable") {
  HttpCluster h;
  const int f = h.follower_port;
  check_error(http_request(f, "PUT", "/v1/keys/j", "{not json", "application/json"), 400, "badRequest");
  check_error(http_request(f, "PUT", "/v1/keys/j", "value=v&ttl=soon"), 400, "badRequest");
  check_error(http_request(f, "PUT", "/v1/keys/j", ""), 400, "badRequest");
  check_error(get(f, "/v2/keys/j"), 404, "notFound");
  auto wrong = http_request(f, "PATCH", "/v1/keys/j");
  check_error(wrong, 405, "methodNotAllowed");
  CHECK(wrong.headers["allow"] == "GET, PUT, POST, DELETE");
  check_error(http_request(f, "PUT", "/v1/keys/j", "value=v", "text/csv"), 415, "unsupportedMediaType");
  // Past --max-request-bytes (2 MiB by default): 413, and nothing written.
  std::string big = "value=" + std::string(3 << 20, 'x');
  auto large = http_request(f, "PUT", "/v1/keys/big", big, "application/x-www-form-urlencoded", 20s);
  check_error(large, 413, "tooLarge");
  check_error(get(f, "/v1/keys/big"), 404, "keyNotFound");
  // A value under the HTTP bound but over what the member takes: still a typed answer.
  auto headers = http_raw(f, "GET /health HTTP/1.1\r\nX-Big: " + std::string(64 << 10, 'h') + "\r\n\r\n", 10s);
  CHECK(headers.status == 431);
  auto garbage = http_raw(f, "THIS IS NOT HTTP\r\n\r\n", 10s);
  CHECK(garbage.status == 400);
  // The member still serves.
  CHECK(put(f, "/after", "value=ok").status == 201);
  // Two requests on one keep-alive connection.
  auto two = http_raw(f,
                      "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /v1/keys/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                      10s);
  CHECK(two.status == 200);
}
