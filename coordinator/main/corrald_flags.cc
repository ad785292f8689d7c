#include "coordinator/main/corrald_flags.h"

#include <cstdlib>
#include <memory>

#include "coordinator/main/config_file.h"
#include "coordinator/main/env_flags.h"
#include "coordinator/main/timing_flags.h"
#include "coordinator/server/startup_checks.h"
#include "coordinator/server/version.h"

namespace corral::main {

void add_corrald_flags(CLI::App& app, CorraldFlags& f) {
  using namespace server;
  // CORRAL_CONFIG names a file that must exist (CLI11 reads no variable
  // for its config option; a default file name is the way in).
  const char* env_config = std::getenv("CORRAL_CONFIG");
  app.set_config("--config", env_config ? env_config : "", "read flags from this file: key = value lines, flag names without dashes as keys; unknown keys and other lines are refused", env_config != nullptr);
  app.add_option("--name", f.node.name, "member name (unique in the cluster; the data dir remembers it)")->capture_default_str();
  f.node.data_dir.clear();  // empty after parsing: <name>.corral
  app.add_option("--data-dir", f.node.data_dir, "data directory (default: <name>.corral)");
  app.add_option("--listen-peer", f.node.listen_peer, "peer endpoint tcp://IP:PORT")->capture_default_str();
  app.add_option("--listen-client", f.node.listen_client, "client endpoint tcp://IP:PORT")->capture_default_str();
  app.add_option("--advertise-client", f.node.advertise_client, "client URL told to others (default: listen-client)");
  app.add_option("--advertise-peer", f.node.advertise_peer, "peer URL (default: listen-peer)");
  app.add_option("--initial-cluster", f.node.initial_cluster, "name=tcp://IP:PORT,... (default: this member alone)");
  app.add_option("--initial-cluster-state", f.cluster_state,
                 "new, or existing: join a cluster that ran member add for this name and peer URL (empty data dir)")
      ->check(CLI::IsMember({"new", "existing"}))
      ->capture_default_str();
  const std::string election = "election timeout = tick-ms x election-ticks, " +
                               std::to_string(kMinElectionTimeoutMs) + ".." + std::to_string(kMaxElectionTimeoutMs) + " ms";
  f.heartbeat_interval = app.add_option("--heartbeat-interval", f.heartbeat_interval_ms,
      "heartbeat interval in ms, as etcd's (default 100; sets --tick-ms to it and --heartbeat-ticks 1)")
      ->check(CLI::Range(1, 60'000));
  f.election_timeout = app.add_option("--election-timeout", f.election_timeout_ms,
      "election timeout in ms, as etcd's (default 1000): a whole number of heartbeat intervals, at least " +
      std::to_string(kMinElectionToHeartbeatTicks) + " of them")
      ->check(CLI::Range(1, 600'000));
  f.tick = app.add_option("--tick-ms", f.node.tick_ms, "raft tick length in ms (" + election + ")")->check(CLI::Range(1, 60'000))->capture_default_str();
  f.election_ticks = app.add_option("--election-ticks", f.node.election_ticks, "election timeout in ticks: at least " + std::to_string(kMinElectionToHeartbeatTicks) + " x heartbeat-ticks (" + election + ")")->check(CLI::Range(2, 100'000))->capture_default_str();
  f.heartbeat_ticks = app.add_option("--heartbeat-ticks", f.node.heartbeat_ticks, "heartbeat interval in ticks (election-ticks / " + std::to_string(kMinElectionToHeartbeatTicks) + " at most)")->check(CLI::Range(1, 100'000))->capture_default_str();
  app.add_option("--storage-writer", f.node.storage_writer, "the leader's raft log append and fsync on a writer thread (true) or on the loop thread (false)")->capture_default_str();
  app.add_option("--peer-wire", f.peer_wire,
                 "how members talk to each other: tcp (plain TCP, the fastest), zmq (ZeroMQ, the only one with CURVE), or auto (zmq with --curve-key-file, else tcp); every member must use the same")
      ->check(CLI::IsMember({"auto", "tcp", "zmq"}))
      ->capture_default_str();
  app.add_option("--client-wire", f.client_wire,
                 "how clients talk to this member: tcp (plain TCP, the fastest), zmq (ZeroMQ, the only one with CURVE), or auto (zmq with --curve-key-file, else tcp); clients must use the same (their --client-wire)")
      ->check(CLI::IsMember({"auto", "tcp", "zmq"}))
      ->capture_default_str();
  app.add_option("--read-lease", f.node.read_lease, "linearizable reads served by the leader from a read lease (no heartbeat round per read; safe while members' clocks run within 10% of each other's rate); false: a ReadIndex heartbeat round per batch of reads, as etcd's default (every member should agree)")->capture_default_str();
  app.add_option("--snapshot-count", f.node.snapshot_count, "applied entries between snapshots")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))->capture_default_str();
  app.add_option("--snapshot-catchup-entries", f.node.snapshot_catchup_entries, "entries kept in the log after a snapshot, for lagging followers to catch up from (>= 1)")
      ->check(CLI::Range(uint64_t{kMinSnapshotCatchupEntries}, uint64_t{1} << 40))->capture_default_str();
  app.add_option("--assign-release-timeout", f.node.assign_release_timeout_ms,
                 "ms a collector has to release a task it is asked to hand over before the leader releases it")
      ->check(CLI::Range(100, 3'600'000))->capture_default_str();
  app.add_option("--assign-load-slack", f.node.assign_load_slack_permille,
                 "how far above its capacity-weighted share a collector may be loaded, in thousandths")
      ->check(CLI::Range(int64_t{0}, int64_t{10'000}))->capture_default_str();
  app.add_option("--auto-compaction-retention", f.node.auto_compaction_retention_revisions, "revisions kept by automatic compaction (0: off)")->check(CLI::Range(int64_t{0}, int64_t{1} << 60))->capture_default_str();
  app.add_option("--max-request-bytes", f.node.max_request_bytes, "largest client request in bytes")->check(CLI::Range(size_t{1024}, size_t{64} << 20))->capture_default_str();
  app.add_option("--max-pending-proposals", f.node.max_pending_proposals, "writes in flight before 'unavailable'")->check(CLI::Range(size_t{1}, size_t{10'000'000}))->capture_default_str();
  app.add_option("--quota-backend-bytes", f.node.quota_backend_bytes, "data-dir size past which puts are refused (0: none)")->check(CLI::Range(int64_t{0}, int64_t{1} << 50))->capture_default_str();
  app.add_option("--disk-reserve-bytes", f.node.disk_reserve_bytes, "free space of the data dir's file system below which the NOSPACE alarm refuses writes (0: none)")->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50))->capture_default_str();
  app.add_option_function<int64_t>("--auth-token-ttl", [&f](int64_t seconds) { f.node.auth_token_ttl_ms = seconds * 1000; },
                                   "seconds a token from authenticate stays valid (etcd's flag)")
      ->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600))->default_str(std::to_string(f.node.auth_token_ttl_ms / 1000));
  app.add_option("--max-watchers-per-connection", f.node.max_watchers_per_connection, "watches one client connection may hold")->check(CLI::Range(size_t{1}, size_t{1'000'000}))->capture_default_str();
  app.add_option("--request-timeout-ms", f.node.request_timeout_ms, "a write not applied by then gets 'timeout'; at least " + std::to_string(kMinRequestTimeoutElections) + " election timeouts")->check(CLI::Range(100, 600'000))->capture_default_str();
  app.add_option("--log-level", f.log_level, "lines below this level are not written: debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--listen-http", f.http.listen, "HTTP+JSON API on http://IP:PORT or https://IP:PORT (repeatable)");
  app.add_option("--cert-file", f.http.tls.cert_file, "PEM certificate of the https listener");
  app.add_option("--key-file", f.http.tls.key_file, "PEM private key of the https listener");
  app.add_option("--trusted-ca-file", f.http.tls.trusted_ca_file, "PEM CA whose client certificates the https listener verifies");
  app.add_flag("--client-cert-auth", f.http.tls.client_cert_auth, "https: refuse clients without a certificate signed by --trusted-ca-file");
  app.add_option("--curve-key-file", f.curve_files.key_file,
                 "this member's CURVE key pair (corralctl curve keygen): turns on CURVE for clients and peers; "
                 "needs both allow files");
  app.add_option("--client-curve-allow-file", f.curve_files.client_allow_file,
                 "lines 'PUBLICKEY user': the client keys that may connect and the user each one is (SIGHUP re-reads)");
  app.add_option("--peer-curve-allow-file", f.curve_files.peer_allow_file,
                 "lines 'PUBLICKEY member-name': every member's key; peers are dialled with it and others refused (SIGHUP re-reads)");
  // Strict: a misspelt key must not leave a member with a default setting
  // (a forgotten initial-cluster once started a cluster of its own).
  app.config_formatter(std::make_shared<StrictConfigReader>(config_keys_of(app, "--config")));
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.set_version_flag("--version", std::string("corrald ") + server::kVersion);
  bind_env(app, "--config");
}

std::string finish_corrald_flags(CorraldFlags& f) {
  f.node.initial_cluster_new = f.cluster_state == "new";
  auto wire = net::parse_peer_wire(f.peer_wire);
  if (!wire.ok()) return wire.error().message;
  f.node.peer_wire = *wire;
  auto client_wire = net::parse_client_wire(f.client_wire);
  if (!client_wire.ok()) return client_wire.error().message;
  f.node.client_wire = *client_wire;
  TimingFlags timing;
  if (f.heartbeat_interval->count()) timing.heartbeat_interval_ms = f.heartbeat_interval_ms;
  if (f.election_timeout->count()) timing.election_timeout_ms = f.election_timeout_ms;
  timing.ticks_given = f.tick->count() || f.election_ticks->count() || f.heartbeat_ticks->count();
  if (auto bad = apply_timing_flags(timing, f.node); !bad.empty()) return bad;
  if (f.node.data_dir.empty()) f.node.data_dir = f.node.name + ".corral";
  auto curve = server::load_curve_setup(f.curve_files);
  if (!curve.ok()) return curve.error().message;
  f.node.curve = std::move(curve).value();
  if (f.node.peer_wire == net::PeerWire::kTcp && f.node.curve) {
    return "--peer-wire tcp has no CURVE: with --curve-key-file use --peer-wire zmq or auto";
  }
  if (f.node.client_wire == net::ClientWire::kTcp && f.node.curve) {
    return "--client-wire tcp has no CURVE: with --curve-key-file use --client-wire zmq or auto";
  }
  return {};
}

}  // namespace corral::main
