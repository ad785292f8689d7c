// corrald: one member of a corral cluster.
//
// Flags follow etcd's names; every flag may also be given in a config file
// (--config FILE: "key = value" lines, keys the flag names without the
// dashes; config_file.h). The file is read strictly: an unknown key or a
// line that is not key = value stops corrald with exit code 2 and the line
// number. Flags on the command line override the file. With no flags a
// single member named "default" runs with data in ./default.corral, clients
// on tcp://127.0.0.1:2379 and peers on tcp://127.0.0.1:2380. The data dir
// defaults to <name>.corral so that two members started in one directory
// do not collide on RocksDB's lock.
//
// Start-up refuses nonsense settings (server/startup_checks.h): an election
// timeout (--tick-ms x --election-ticks) outside 50..50000 ms, fewer than 5
// heartbeats per election timeout, a request timeout under 2 election
// timeouts, --snapshot-catchup-entries 0; and an inconsistent start: a peer
// URL twice in --initial-cluster, the member's own entry not its
// --advertise-peer/--listen-peer, a data dir of another --name, a removed
// member's data dir, --initial-cluster-state existing that no member of the
// cluster knows. Nothing is written to an empty data dir before these pass.
//
// CURVE (--curve-key-file with --client-curve-allow-file and
// --peer-curve-allow-file, server/curve_setup.h): all three or none, else
// exit 2 naming the missing flag; a bad key or allow file is exit 2 naming
// its line. SIGHUP re-reads the allow files.
//
// Once serving it prints one line on stderr:
//   corrald: ready name=<name> id=<hex> client=tcp://IP:PORT peer=tcp://IP:PORT
// Exit codes: 0 stopped by SIGTERM/SIGINT; 1 could not start (storage, bind,
// no member of the cluster answered a join); 2 bad flags, config or data
// dir, a data dir wiped under a member the running cluster knows as started
// ("has already been bootstrapped"), or stopped by itself because the
// members it reached are of another cluster ("cluster id mismatch": its
// --initial-cluster differs from theirs); 3 removed from the cluster (at
// start, or stopped by itself).
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <sys/resource.h>
#include <unistd.h>  // environ

#include <CLI/CLI.hpp>

#include "coordinator/main/corrald_flags.h"
#include "coordinator/main/env_flags.h"
#include "coordinator/server/auth_token_minter.h"
#include "coordinator/server/http_server.h"
#include "coordinator/server/log.h"
#include "coordinator/server/node.h"

namespace {

using corral::server::HttpServer;
using corral::server::Node;

constexpr int kExitStopped = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitBadFlags = 2;
constexpr int kExitFinished = 3;
// How often the main thread looks whether the node ended by itself.
constexpr long kSignalWaitNs = 200'000'000;

// Parses the flags into `f`; an exit code when corrald must not start
// (--help and --version give 0).
std::optional<int> parse_flags(int argc, char** argv, corral::main::CorraldFlags& f) {
  CLI::App app{"corrald: a member of a corral coordinator cluster"};
  corral::main::add_corrald_flags(app, f);
  if (auto unknown = corral::main::unknown_env(app, environ)) {
    std::fprintf(stderr, "corrald: environment variable %s names no corrald flag (flags are read from "
                 "CORRAL_<FLAG>, e.g. CORRAL_INITIAL_CLUSTER): unset it or correct its name\n", unknown->c_str());
    return kExitBadFlags;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitStopped : kExitBadFlags;
  }
  if (auto bad = corral::main::finish_corrald_flags(f); !bad.empty()) {
    std::fprintf(stderr, "corrald: %s\n", bad.c_str());
    return kExitBadFlags;
  }
  return std::nullopt;
}

int exit_code_for_start_error(const corral::Error& error) {
  switch (error.code) {
    case corral::ErrorCode::kBadRequest:
      return kExitBadFlags;
    case corral::ErrorCode::kPermissionDenied:  // a removed member
      return kExitFinished;
    default:
      return kExitStartFailed;
  }
}

// The HTTP+JSON API in front of the started node, if --listen-http asked
// for it: a null server when it did not, the error when it cannot start.
corral::Result<std::unique_ptr<HttpServer>> start_http_api(corral::server::HttpServerOptions http,
                                                            const corral::server::NodeOptions& o, Node& n) {
  if (http.listen.empty()) return std::unique_ptr<HttpServer>{};
  http.client_endpoint = n.client_endpoint();
  http.max_body_bytes = o.max_request_bytes;
  http.metrics = [&n] { return n.metrics().render(); };
  http.token_for_user = [minter = n.token_minter()](std::string_view user) { return minter->mint(user); };
  return HttpServer::start(std::move(http));
}

// Until SIGTERM/SIGINT (exit 0) or the node ends by itself (removed, or
// refused by the cluster); SIGHUP re-reads the CURVE allow files.
int serve_until_stopped(Node& n, HttpServer* http_server, sigset_t& signals) {
  timespec wait{0, kSignalWaitNs};
  while (!n.finished()) {
    int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) {
      std::fprintf(stderr, "corrald: signal %d: stopping\n", sig);
      if (http_server) http_server->stop();
      n.stop();
      return kExitStopped;
    }
    if (sig == SIGHUP) {
      if (auto s = n.reload_curve_allow_lists(); !s.ok()) {
        corral::server::log_warn("SIGHUP: allow-lists not reloaded (the old ones stay): %s", s.error().message.c_str());
      }
    }
  }
  if (http_server) http_server->stop();
  n.stop();
  return n.refused_by_cluster() ? kExitBadFlags : kExitFinished;
}

}  // namespace

int main(int argc, char** argv) {
  corral::main::CorraldFlags f;
  if (auto rc = parse_flags(argc, argv, f)) return *rc;
  const corral::server::NodeOptions& o = f.node;
  corral::server::init_logging(*corral::server::parse_log_level(f.log_level));

  // Signals go to this thread only: block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Each client on the TCP wire is a file descriptor of the member's
  // (watches fan out to thousands of agents): take the whole hard limit
  // rather than refuse connections at 1024.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }

  auto node = Node::create(o);
  if (!node.ok()) {
    std::fprintf(stderr, "corrald: cannot start: %s: %s\n", corral::error_code_name(node.error().code),
                 node.error().message.c_str());
    return exit_code_for_start_error(node.error());
  }
  auto& n = *node.value();
  corral::server::log_event("member %s id=%016llx data-dir=%s listen-client=%s listen-peer=%s advertise-client=%s advertise-peer=%s",
                            o.name.c_str(), static_cast<unsigned long long>(n.id()), o.data_dir.c_str(),
                            n.client_endpoint().c_str(), n.peer_endpoint().c_str(),
                            (o.advertise_client.empty() ? n.client_endpoint() : o.advertise_client).c_str(),
                            (o.advertise_peer.empty() ? n.peer_endpoint() : o.advertise_peer).c_str());
  n.start();
  auto http_server = start_http_api(std::move(f.http), o, n);
  if (!http_server.ok()) {
    std::fprintf(stderr, "corrald: cannot start the HTTP API: %s\n", http_server.error().message.c_str());
    n.stop();
    return http_server.error().code == corral::ErrorCode::kBadRequest ? kExitBadFlags : kExitStartFailed;
  }
  std::string http_urls;
  if (*http_server) {
    for (const auto& url : (*http_server)->urls()) http_urls += " http=" + url;
  }
  corral::server::flush_log();
  std::fprintf(stderr, "corrald: ready name=%s id=%016llx client=%s peer=%s%s\n", o.name.c_str(),
               static_cast<unsigned long long>(n.id()), n.client_endpoint().c_str(), n.peer_endpoint().c_str(),
               http_urls.c_str());
  std::fflush(stderr);
  return serve_until_stopped(n, http_server.value().get(), signals);
}
