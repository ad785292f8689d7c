// The HTTP API over TLS with client certificates (--client-cert-auth): the
// certificates are made at run time with the openssl CLI; curl is the client.
// No certificate, one from another CA and an expired one are refused in the
// handshake; a good one is served.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kCurl = "/usr/bin/curl";

struct Pki {
  std::string dir;
  std::string scratch;
  void run(const std::vector<std::string>& args) {
    auto r = run_program(kOpenssl, args, scratch, 30s);
    INFO("openssl " << args.front() << ": " << r.out);
    REQUIRE(r.exit_code == 0);
  }
  void ca(const std::string& name) {
    run({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/" + name + ".key", "-out",
         dir + "/" + name + ".crt", "-days", "2", "-subj", "/CN=" + name});
  }
  // A certificate for `name` signed by `ca`, valid for `days` (negative: expired).
  void cert(const std::string& name, const std::string& ca, int days, bool server) {
    const std::string base = dir + "/" + name;
    run({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj",
         "/CN=" + name});
    std::vector<std::string> args = {"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".crt",
                                     "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial", "-out", base + ".crt",
                                     "-days", std::to_string(days)};
    if (server) {
      write_ext(base + ".ext", "subjectAltName=IP:127.0.0.1\n");
      args.insert(args.end(), {"-extfile", base + ".ext"});
    }
    run(args);
  }
  static void write_ext(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
};

// curl's exit code and what it printed (the status code last). `extra`:
// more curl arguments (a method, a body).
RunResult curl(const Pki& pki, const std::string& url, const std::string& client_cert,
               const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"-sS", "--max-time", "10", "--cacert", pki.dir + "/ca.crt", "-w",
                                   "\nstatus=%{http_code}"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (!client_cert.empty()) {
    args.insert(args.end(), {"--cert", pki.dir + "/" + client_cert + ".crt", "--key",
                             pki.dir + "/" + client_cert + ".key"});
  }
  args.push_back(url);
  return run_program(kCurl, args, pki.dir + "/curl.out", 30s);
}

// A scratch directory, removed at the end.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "corral-tls-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("http: TLS with client certificates refuses the wrong ones in the handshake") {
  const int port = next_free_port();
  ClusterOptions o;
  o.members = 1;
  TempDir tmp;
  Pki pki{tmp.path, tmp.path + "/openssl.out"};
  pki.ca("ca");
  pki.ca("other-ca");
  pki.cert("server", "ca", 2, true);
  pki.cert("alice", "ca", 2, false);
  pki.cert("mallory", "other-ca", 2, false);
  pki.cert("old", "ca", -1, false);
  o.extra_args = {"--listen-http", "https://127.0.0.1:" + std::to_string(port), "--cert-file", pki.dir + "/server.crt",
                  "--key-file", pki.dir + "/server.key", "--trusted-ca-file", pki.dir + "/ca.crt",
                  "--client-cert-auth"};
  Cluster cluster(o);
  cluster.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(port);

  auto good = curl(pki, url + "/v1/keys/tls", "alice");
  INFO(good.out);
  CHECK(good.exit_code == 0);
  CHECK(good.out.find("status=404") != std::string::npos);  // served: the key does not exist
  CHECK(good.out.find("keyNotFound") != std::string::npos);

  auto none = curl(pki, url + "/version", "");
  INFO(none.out);
  CHECK(none.exit_code != 0);
  CHECK(none.out.find("status=000") != std::string::npos);
  auto wrong_ca = curl(pki, url + "/version", "mallory");
  INFO(wrong_ca.out);
  CHECK(wrong_ca.exit_code != 0);
  CHECK(wrong_ca.out.find("status=000") != std::string::npos);
  auto expired = curl(pki, url + "/version", "old");
  INFO(expired.out);
  CHECK(expired.exit_code != 0);
  CHECK(expired.out.find("status=000") != std::string::npos);

  // Still serving after the refusals.
  auto again = curl(pki, url + "/health", "alice");
  CHECK(again.out.find("status=200") != std::string::npos);
}

TEST_CASE("http: an https listener without its files is refused at start") {
  const int port = next_free_port();
  TempDir root;
  auto r = run_program(corrald_path(),
                       {"--data-dir", root.path + "/d", "--listen-client", "tcp://127.0.0.1:" + std::to_string(next_free_port()),
                        "--listen-peer", "tcp://127.0.0.1:" + std::to_string(next_free_port()),
                        "--listen-http", "https://127.0.0.1:" + std::to_string(port)},
                       root.path + "/out", 30s);
  INFO(r.out);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("--cert-file") != std::string::npos);
}

TEST_CASE("http: with auth enabled, a client certificate's CN is its user", "[integration][http][auth]") {
  const int port = next_free_port();
  ClusterOptions o;
  o.members = 1;
  TempDir tmp;
  Pki pki{tmp.path, tmp.path + "/openssl.out"};
  pki.ca("ca");
  pki.cert("server", "ca", 2, true);
  pki.cert("alice", "ca", 2, false);
  pki.cert("stranger", "ca", 2, false);  // signed by the trusted CA, but no such user
  o.extra_args = {"--listen-http", "https://127.0.0.1:" + std::to_string(port), "--cert-file", pki.dir + "/server.crt",
                  "--key-file", pki.dir + "/server.key", "--trusted-ca-file", pki.dir + "/ca.crt",
                  "--client-cert-auth"};
  Cluster cluster(o);
  cluster.start();
  auto admin = cluster.client();
  require_ok(admin->put("/svc/seed", "s"), "put before auth");
  require_ok(admin->put("/other/seed", "o"), "put before auth");
  require_ok(admin->user_add("root", "root-pw"), "user add root");
  require_ok(admin->role_add("svc"), "role add");
  corral::client::AuthPermission perm;
  perm.type = corral::client::AuthPermission::Type::kReadWrite;
  perm.key = "/svc/";
  perm.range_end = corral::client::prefix_range_end("/svc/");
  require_ok(admin->role_grant_permission("svc", perm), "grant");
  require_ok(admin->user_add("alice", "", true), "user add alice (certificate only)");
  require_ok(admin->user_grant_role("alice", "svc"), "grant role");
  require_ok(admin->auth_enable(), "auth enable");
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> put_form = {"-X", "PUT", "-d", "value=1"};

  // CN=alice, no token: alice's permissions.
  auto put = curl(pki, url + "/v1/keys/svc/a", "alice", put_form);
  INFO(put.out);
  CHECK(put.out.find("status=201") != std::string::npos);
  auto get = curl(pki, url + "/v1/keys/svc/seed", "alice");
  INFO(get.out);
  CHECK(get.out.find("status=200") != std::string::npos);
  CHECK(get.out.find("\"value\":\"s\"") != std::string::npos);
  // Outside them: 403, nothing written.
  auto outside = curl(pki, url + "/v1/keys/other/x", "alice", put_form);
  INFO(outside.out);
  CHECK(outside.out.find("status=403") != std::string::npos);
  CHECK(outside.out.find("permissionDenied") != std::string::npos);
  auto outside_read = curl(pki, url + "/v1/keys/other/seed", "alice");
  INFO(outside_read.out);
  CHECK(outside_read.out.find("status=403") != std::string::npos);
  // A CN that names no user: anonymous (never root), refused everywhere.
  for (const std::string path : {"/v1/keys/svc/seed", "/v1/keys/other/seed"}) {
    auto unknown = curl(pki, url + path, "stranger");
    INFO(unknown.out);
    CHECK((unknown.out.find("status=403") != std::string::npos || unknown.out.find("status=401") != std::string::npos));
  }
  auto unknown_put = curl(pki, url + "/v1/keys/svc/b", "stranger", put_form);
  INFO(unknown_put.out);
  CHECK((unknown_put.out.find("status=403") != std::string::npos || unknown_put.out.find("status=401") != std::string::npos));

  corral::client::Options ro;
  ro.endpoints = cluster.endpoints();
  ro.user = "root";
  ro.password = "root-pw";
  auto root = corral::client::Client::connect(ro);
  REQUIRE(root.ok());
  auto a = require_ok((*root)->get("/svc/a"), "get /svc/a");
  REQUIRE(a.kvs.size() == 1);
  CHECK(a.kvs[0].value == "1");
  CHECK(require_ok((*root)->get("/other/x"), "get /other/x").kvs.empty());
  CHECK(require_ok((*root)->get("/svc/b"), "get /svc/b").kvs.empty());
}
