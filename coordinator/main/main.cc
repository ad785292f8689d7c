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
#include <cstdlib>
#include <ctime>
#include <string>

#include <unistd.h>  // environ

#include <CLI/CLI.hpp>

#include "coordinator/main/config_file.h"
#include "coordinator/main/env_flags.h"
#include "coordinator/main/timing_flags.h"
#include "coordinator/server/auth_token_minter.h"
#include "coordinator/server/http_server.h"
#include "coordinator/server/log.h"
#include "coordinator/server/node.h"
#include "coordinator/server/startup_checks.h"
#include "coordinator/server/version.h"

namespace {

constexpr int kExitStopped = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitBadFlags = 2;
constexpr int kExitFinished = 3;
// How often the main thread looks whether the node ended by itself.
constexpr long kSignalWaitNs = 200'000'000;

}  // namespace

int main(int argc, char** argv) {
  corral::server::NodeOptions o;
  std::string cluster_state = "new";
  std::string log_level = "info";
  CLI::App app{"corrald: a member of a corral coordinator cluster"};
  // CORRAL_CONFIG names a file that must exist (CLI11 reads no variable
  // for its config option; a default file name is the way in).
  const char* env_config = std::getenv("CORRAL_CONFIG");
  app.set_config("--config", env_config ? env_config : "", "read flags from this file: key = value lines, flag names without dashes as keys; unknown keys and other lines are refused", env_config != nullptr);
  app.add_option("--name", o.name, "member name (unique in the cluster; the data dir remembers it)")->capture_default_str();
  o.data_dir.clear();  // empty after parsing: <name>.corral
  app.add_option("--data-dir", o.data_dir, "data directory (default: <name>.corral)");
  app.add_option("--listen-peer", o.listen_peer, "peer endpoint tcp://IP:PORT")->capture_default_str();
  app.add_option("--listen-client", o.listen_client, "client endpoint tcp://IP:PORT")->capture_default_str();
  app.add_option("--advertise-client", o.advertise_client, "client URL told to others (default: listen-client)");
  app.add_option("--advertise-peer", o.advertise_peer, "peer URL (default: listen-peer)");
  app.add_option("--initial-cluster", o.initial_cluster, "name=tcp://IP:PORT,... (default: this member alone)");
  app.add_option("--initial-cluster-state", cluster_state,
                 "new, or existing: join a cluster that ran member add for this name and peer URL (empty data dir)")
      ->check(CLI::IsMember({"new", "existing"}))
      ->capture_default_str();
  using namespace corral::server;
  const std::string election = "election timeout = tick-ms x election-ticks, " +
                               std::to_string(kMinElectionTimeoutMs) + ".." + std::to_string(kMaxElectionTimeoutMs) + " ms";
  int heartbeat_interval_ms = 0;
  int election_timeout_ms = 0;
  auto* heartbeat_interval = app.add_option("--heartbeat-interval", heartbeat_interval_ms,
      "heartbeat interval in ms, as etcd's (default 100; sets --tick-ms to it and --heartbeat-ticks 1)")
      ->check(CLI::Range(1, 60'000));
  auto* election_timeout = app.add_option("--election-timeout", election_timeout_ms,
      "election timeout in ms, as etcd's (default 1000): a whole number of heartbeat intervals, at least " +
      std::to_string(kMinElectionToHeartbeatTicks) + " of them")
      ->check(CLI::Range(1, 600'000));
  auto* tick = app.add_option("--tick-ms", o.tick_ms, "raft tick length in ms (" + election + ")")->check(CLI::Range(1, 60'000))->capture_default_str();
  auto* election_ticks = app.add_option("--election-ticks", o.election_ticks, "election timeout in ticks: at least " + std::to_string(kMinElectionToHeartbeatTicks) + " x heartbeat-ticks (" + election + ")")->check(CLI::Range(2, 100'000))->capture_default_str();
  auto* heartbeat_ticks = app.add_option("--heartbeat-ticks", o.heartbeat_ticks, "heartbeat interval in ticks (election-ticks / " + std::to_string(kMinElectionToHeartbeatTicks) + " at most)")->check(CLI::Range(1, 100'000))->capture_default_str();
  app.add_option("--storage-writer", o.storage_writer, "the leader's raft log append and fsync on a writer thread (true) or on the loop thread (false)")->capture_default_str();
  app.add_option("--read-lease", o.read_lease, "linearizable reads served by the leader from a read lease (no heartbeat round per read; safe while members' clocks run within 10% of each other's rate); false: ReadIndex, as etcd's default")->capture_default_str();
  app.add_option("--snapshot-count", o.snapshot_count, "applied entries between snapshots")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))->capture_default_str();
  app.add_option("--snapshot-catchup-entries", o.snapshot_catchup_entries, "entries kept in the log after a snapshot, for lagging followers to catch up from (>= 1)")
      ->check(CLI::Range(uint64_t{kMinSnapshotCatchupEntries}, uint64_t{1} << 40))->capture_default_str();
  app.add_option("--assign-release-timeout", o.assign_release_timeout_ms,
                 "ms a collector has to release a task it is asked to hand over before the leader releases it")
      ->check(CLI::Range(100, 3'600'000))->capture_default_str();
  app.add_option("--assign-load-slack", o.assign_load_slack_permille,
                 "how far above its capacity-weighted share a collector may be loaded, in thousandths")
      ->check(CLI::Range(int64_t{0}, int64_t{10'000}))->capture_default_str();
  app.add_option("--auto-compaction-retention", o.auto_compaction_retention_revisions, "revisions kept by automatic compaction (0: off)")->check(CLI::Range(int64_t{0}, int64_t{1} << 60))->capture_default_str();
  app.add_option("--max-request-bytes", o.max_request_bytes, "largest client request in bytes")->check(CLI::Range(size_t{1024}, size_t{64} << 20))->capture_default_str();
  app.add_option("--max-pending-proposals", o.max_pending_proposals, "writes in flight before 'unavailable'")->check(CLI::Range(size_t{1}, size_t{10'000'000}))->capture_default_str();
  app.add_option("--quota-backend-bytes", o.quota_backend_bytes, "data-dir size past which puts are refused (0: none)")->check(CLI::Range(int64_t{0}, int64_t{1} << 50))->capture_default_str();
  app.add_option("--disk-reserve-bytes", o.disk_reserve_bytes, "free space of the data dir's file system below which the NOSPACE alarm refuses writes (0: none)")->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50))->capture_default_str();
  app.add_option_function<int64_t>("--auth-token-ttl", [&o](int64_t seconds) { o.auth_token_ttl_ms = seconds * 1000; },
                                   "seconds a token from authenticate stays valid (etcd's flag)")
      ->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600))->default_str(std::to_string(o.auth_token_ttl_ms / 1000));
  app.add_option("--max-watchers-per-connection", o.max_watchers_per_connection, "watches one client connection may hold")->check(CLI::Range(size_t{1}, size_t{1'000'000}))->capture_default_str();
  app.add_option("--request-timeout-ms", o.request_timeout_ms, "a write not applied by then gets 'timeout'; at least " + std::to_string(kMinRequestTimeoutElections) + " election timeouts")->check(CLI::Range(100, 600'000))->capture_default_str();
  // Strict: a misspelt key must not leave a member with a default setting
  // (a forgotten initial-cluster once started a cluster of its own).
  app.add_option("--log-level", log_level, "lines below this level are not written: debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  corral::server::HttpServerOptions http;
  app.add_option("--listen-http", http.listen, "HTTP+JSON API on http://IP:PORT or https://IP:PORT (repeatable)");
  app.add_option("--cert-file", http.tls.cert_file, "PEM certificate of the https listener");
  app.add_option("--key-file", http.tls.key_file, "PEM private key of the https listener");
  app.add_option("--trusted-ca-file", http.tls.trusted_ca_file, "PEM CA whose client certificates the https listener verifies");
  app.add_flag("--client-cert-auth", http.tls.client_cert_auth, "https: refuse clients without a certificate signed by --trusted-ca-file");
  corral::server::CurveFiles curve_files;
  app.add_option("--curve-key-file", curve_files.key_file,
                 "this member's CURVE key pair (corralctl curve keygen): turns on CURVE for clients and peers; "
                 "needs both allow files");
  app.add_option("--client-curve-allow-file", curve_files.client_allow_file,
                 "lines 'PUBLICKEY user': the client keys that may connect and the user each one is (SIGHUP re-reads)");
  app.add_option("--peer-curve-allow-file", curve_files.peer_allow_file,
                 "lines 'PUBLICKEY member-name': every member's key; peers are dialled with it and others refused (SIGHUP re-reads)");
  app.config_formatter(std::make_shared<corral::main::StrictConfigReader>(corral::main::config_keys_of(app, "--config")));
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.set_version_flag("--version", std::string("corrald ") + corral::server::kVersion);
  corral::main::bind_env(app, "--config");
  if (auto unknown = corral::main::unknown_env(app, environ)) {
    std::fprintf(stderr, "corrald: environment variable %s names no corrald flag (flags are read from "
                 "CORRAL_<FLAG>, e.g. CORRAL_INITIAL_CLUSTER): unset it or correct its name\n", unknown->c_str());
    return kExitBadFlags;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadFlags;
  }
  o.initial_cluster_new = cluster_state == "new";
  corral::main::TimingFlags timing;
  if (heartbeat_interval->count()) timing.heartbeat_interval_ms = heartbeat_interval_ms;
  if (election_timeout->count()) timing.election_timeout_ms = election_timeout_ms;
  timing.ticks_given = tick->count() || election_ticks->count() || heartbeat_ticks->count();
  if (auto bad = corral::main::apply_timing_flags(timing, o); !bad.empty()) {
    std::fprintf(stderr, "corrald: %s\n", bad.c_str());
    return kExitBadFlags;
  }
  if (o.data_dir.empty()) o.data_dir = o.name + ".corral";
  auto curve = corral::server::load_curve_setup(curve_files);
  if (!curve.ok()) {
    std::fprintf(stderr, "corrald: %s\n", curve.error().message.c_str());
    return kExitBadFlags;
  }
  o.curve = std::move(curve).value();
  corral::server::init_logging(*corral::server::parse_log_level(log_level));

  // Signals go to this thread only: block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto node = corral::server::Node::create(o);
  if (!node.ok()) {
    std::fprintf(stderr, "corrald: cannot start: %s: %s\n", corral::error_code_name(node.error().code),
                 node.error().message.c_str());
    switch (node.error().code) {
      case corral::ErrorCode::kBadRequest:
        return kExitBadFlags;
      case corral::ErrorCode::kPermissionDenied:  // a removed member
        return kExitFinished;
      default:
        return kExitStartFailed;
    }
  }
  auto& n = *node.value();
  corral::server::log_event("member %s id=%016llx data-dir=%s listen-client=%s listen-peer=%s advertise-client=%s advertise-peer=%s",
                            o.name.c_str(), static_cast<unsigned long long>(n.id()), o.data_dir.c_str(),
                            n.client_endpoint().c_str(), n.peer_endpoint().c_str(),
                            (o.advertise_client.empty() ? n.client_endpoint() : o.advertise_client).c_str(),
                            (o.advertise_peer.empty() ? n.peer_endpoint() : o.advertise_peer).c_str());
  n.start();
  std::unique_ptr<corral::server::HttpServer> http_server;
  std::string http_urls;
  if (!http.listen.empty()) {
    http.client_endpoint = n.client_endpoint();
    http.max_body_bytes = o.max_request_bytes;
    http.metrics = [&n] { return n.metrics().render(); };
    http.token_for_user = [minter = n.token_minter()](std::string_view user) { return minter->mint(user); };
    auto started = corral::server::HttpServer::start(std::move(http));
    if (!started.ok()) {
      std::fprintf(stderr, "corrald: cannot start the HTTP API: %s\n", started.error().message.c_str());
      n.stop();
      return started.error().code == corral::ErrorCode::kBadRequest ? kExitBadFlags : kExitStartFailed;
    }
    http_server = std::move(started).value();
    for (const auto& url : http_server->urls()) http_urls += " http=" + url;
  }
  corral::server::flush_log();
  std::fprintf(stderr, "corrald: ready name=%s id=%016llx client=%s peer=%s%s\n", o.name.c_str(),
               static_cast<unsigned long long>(n.id()), n.client_endpoint().c_str(), n.peer_endpoint().c_str(),
               http_urls.c_str());
  std::fflush(stderr);
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
  if (n.refused_by_cluster()) return kExitBadFlags;
  return kExitFinished;
}
