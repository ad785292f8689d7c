// A cluster of real corrald processes on 127.0.0.1 for integration and fault
// tests.
//
// Every member gets a free peer and client port (probed by binding, from a
// per-process base below the ephemeral range so that outgoing connections do
// not take them), its own data dir under one temporary root, and a log file
// (corrald's stderr) beside it. A member is ready when its log shows
// corrald's "corrald: ready" line; a start that fails (port taken meanwhile)
// is retried on fresh ports. The destructor kills every member's process
// group; the root is removed unless the running test failed, in which case
// its path is printed so the logs can be read.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/process.h"

namespace corral::integration {

inline constexpr std::chrono::milliseconds kReadyTimeoutMs{15'000};
inline constexpr std::chrono::milliseconds kLeaderTimeoutMs{15'000};
inline constexpr int kStartAttempts = 4;

// Paths of the binaries under test, set by CMake.
std::string corrald_path();
std::string corralctl_path();

// True once an assertion of the running Catch2 test case has failed.
bool current_test_failed();
// A TCP port free on 127.0.0.1 now (probed by binding), below the ephemeral
// range, from one per-process sequence shared by every user in the process.
// Throws std::runtime_error when none is found.
int next_free_port();

struct ClusterOptions {
  int members = 3;
  int tick_ms = 10;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  uint64_t snapshot_count = 0;            // 0: corrald's default
  uint64_t snapshot_catchup_entries = 0;  // 0: corrald's default
  std::vector<std::string> extra_args;    // given to every member
  // Where member i runs, when not on 127.0.0.1 in this network namespace:
  // its address, and the command its corrald is started through (for
  // example {"ip", "netns", "exec", NAME}, which execs it: signals still
  // reach corrald itself). Empty, or shorter than `members`: the default.
  std::vector<std::string> member_hosts;
  std::vector<std::vector<std::string>> member_launchers;
  bool http = false;  // every member also serves --listen-http on MemberSlot::http_url()
  // Every member advertises its peer URL on a port of its own
  // (MemberSlot::advertised_peer_port) that the test serves, for example
  // with a proxy that delays the member's inbound peer traffic.
  bool peer_proxies = false;
  // Set: more arguments for one member (by name), at each start of it
  // (--election-ticks among them replaces election_ticks for that member).
  std::function<std::vector<std::string>(const std::string& name)> member_args = nullptr;
  // Set: adjusts the options of every client the cluster makes (status and
  // client()), after the endpoints are filled in (e.g. CURVE keys).
  std::function<void(client::Options&)> client_options = nullptr;
  // Set ("tcp", "zmq"): every member runs with --client-wire this, and the
  // cluster's clients use it too (tests whose RawConnection speaks ZeroMQ
  // pin "zmq"). Empty: the defaults (auto on both ends).
  std::string client_wire;
};

struct MemberSlot {
  std::string name;
  std::string host = "127.0.0.1";
  std::vector<std::string> launcher;  // see ClusterOptions::member_launchers
  int peer_port = 0;
  int client_port = 0;
  int http_port = 0;  // ClusterOptions::http only
  int advertised_peer_port = 0;  // ClusterOptions::peer_proxies only: what the others dial
  std::string data_dir;
  std::string log_path;
  Process process;
  bool paused = false;
  std::string peer_url() const;             // where it listens
  std::string advertised_peer_url() const;  // where the others reach it
  std::string client_url() const;
  std::string http_url() const;  // http://127.0.0.1:<http_port>
  bool running() const { return process.valid(); }
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts every member as a new cluster and waits for their ready lines
  // and for a leader. Throws std::runtime_error on failure.
  void start();
  // start(), then the index of the member that leads: what most tests begin
  // with. Throws as start() does, or when no leader is agreed on after it.
  size_t start_with_leader();

  size_t size() const { return slots_.size(); }
  MemberSlot& member(size_t i) { return slots_.at(i); }
  const std::string& root() const { return root_; }
  uint64_t member_id(size_t i) const;
  // The client endpoints of every member (running or not).
  std::vector<std::string> endpoints() const;
  std::string endpoints_text() const;  // comma-separated, for corralctl
  std::string initial_cluster() const;  // name=peer,... of every slot

  std::unique_ptr<client::Client> client(std::vector<std::string> endpoints = {},
                                         std::chrono::milliseconds request_timeout =
                                             std::chrono::milliseconds(5000)) const;

  // (Re)starts member i from its data dir and waits for its ready line.
  // existing: --initial-cluster-state existing.
  void start_member(size_t i, bool existing = false);
  // Sends `sig`; SIGKILL and SIGTERM wait for the exit and return its status.
  int signal_member(size_t i, int sig);
  // SIGSTOP, and waits until every thread of it is stopped (throws after 5 s).
  void pause_member(size_t i);
  void resume_member(size_t i);
  // Removes member i's data dir (it must not run).
  void wipe_member(size_t i);
  // Gives slot i a new name (a removed member comes back as a new one).
  void rename_member(size_t i, std::string name);

  // The index of the member every running, unpaused member agrees leads,
  // once one does within `timeout`; `not_id`: a leader other than this id.
  std::optional<size_t> wait_for_leader(std::chrono::milliseconds timeout = kLeaderTimeoutMs,
                                        uint64_t not_id = 0);
  // Member i's status (direct, no redirect), or nullopt if it does not answer.
  std::optional<client::StatusResult> status(size_t i,
                                             std::chrono::milliseconds timeout =
                                                 std::chrono::milliseconds(500)) const;
  // Waits until member i has applied at least `index`.
  bool wait_applied(size_t i, uint64_t index, std::chrono::milliseconds timeout);
  std::string log_of(size_t i) const;

 private:
  void allocate_ports(MemberSlot& slot);
  bool try_start_member(size_t i, bool existing, std::string& why);

  ClusterOptions options_;
  std::string root_;
  std::vector<MemberSlot> slots_;
  std::unique_ptr<client::Client> status_client_;
};

// Polls `done` until it returns true or `timeout` passes; returns its last value.
template <class F>
bool wait_until(F&& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace corral::integration
