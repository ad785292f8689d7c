#include "tests/integration/harness/cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <thread>

namespace corral::integration {

namespace {

// Ports are probed upwards from a per-process base in [kPortRangeLow,
// kPortRangeHigh), below Linux's ephemeral range (32768..).
constexpr int kPortRangeLow = 20000;
constexpr int kPortRangeHigh = 32000;
constexpr int kPortsPerProcessBase = 97;
constexpr int kMaxPortProbes = 2000;

std::atomic<int> g_next_port{0};

bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

// The id from the last "corrald: ready ... id=<hex>" line of a log.
std::optional<uint64_t> ready_id(const std::string& log, size_t from) {
  size_t at = log.rfind("corrald: ready ");
  if (at == std::string::npos || at < from) return std::nullopt;
  size_t id_at = log.find(" id=", at);
  size_t eol = log.find('\n', at);
  if (id_at == std::string::npos || eol == std::string::npos || id_at > eol) return std::nullopt;
  return std::strtoull(log.c_str() + id_at + 4, nullptr, 16);
}

}  // namespace

int next_free_port() {
  int expected = 0;
  const int span = kPortRangeHigh - kPortRangeLow;
  g_next_port.compare_exchange_strong(expected, kPortRangeLow + (getpid() * kPortsPerProcessBase) % span);
  for (int probe = 0; probe < kMaxPortProbes; ++probe) {
    int p = g_next_port.fetch_add(1);
    if (p >= kPortRangeHigh) {
      g_next_port.store(kPortRangeLow);
      p = g_next_port.fetch_add(1);
    }
    if (port_free(p)) return p;
  }
  throw std::runtime_error("no free port found");
}

// IT_CORRALD: another corrald binary, to run a test against main's behaviour
// and see it fail there (not CORRAL_*: corrald reads those as flags).
std::string corrald_path() {
  const char* other = std::getenv("IT_CORRALD");
  return other && *other ? other : CORRAL_CORRALD_PATH;
}
std::string corralctl_path() { return CORRAL_CORRALCTL_PATH; }

std::string MemberSlot::peer_url() const { return "tcp://" + host + ":" + std::to_string(peer_port); }
std::string MemberSlot::advertised_peer_url() const {
  return advertised_peer_port == 0 ? peer_url() : "tcp://" + host + ":" + std::to_string(advertised_peer_port);
}
std::string MemberSlot::client_url() const { return "tcp://" + host + ":" + std::to_string(client_port); }
std::string MemberSlot::http_url() const { return "http://" + host + ":" + std::to_string(http_port); }

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "corral-it-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  for (int i = 0; i < options_.members; ++i) {
    MemberSlot s;
    s.name = "n" + std::to_string(i + 1);
    s.data_dir = root_ + "/" + s.name + ".data";
    s.log_path = root_ + "/" + s.name + ".log";
    if (static_cast<size_t>(i) < options_.member_hosts.size()) s.host = options_.member_hosts[i];
    if (static_cast<size_t>(i) < options_.member_launchers.size()) s.launcher = options_.member_launchers[i];
    allocate_ports(s);
    slots_.push_back(std::move(s));
  }
  status_client_ = client();
}

Cluster::~Cluster() {
  status_client_.reset();
  for (auto& s : slots_) {
    if (s.process.valid()) s.process.kill_and_wait();
  }
  if (current_test_failed() || std::uncaught_exceptions() > 0) {
    std::fprintf(stderr, "cluster data and logs kept in %s\n", root_.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

void Cluster::allocate_ports(MemberSlot& slot) {
  slot.peer_port = next_free_port();
  slot.client_port = next_free_port();
  if (options_.http) slot.http_port = next_free_port();
  if (options_.peer_proxies) slot.advertised_peer_port = next_free_port();
}

uint64_t Cluster::member_id(size_t i) const {
  auto id = ready_id(read_file(slots_.at(i).log_path), 0);
  if (!id) throw std::runtime_error("member " + slots_.at(i).name + " never reported its id");
  return *id;
}

std::vector<std::string> Cluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& s : slots_) out.push_back(s.client_url());
  return out;
}

std::string Cluster::endpoints_text() const {
  std::string out;
  for (const auto& s : slots_) out += (out.empty() ? "" : ",") + s.client_url();
  return out;
}

std::string Cluster::initial_cluster() const {
  std::string out;
  for (const auto& s : slots_) out += (out.empty() ? "" : ",") + s.name + "=" + s.advertised_peer_url();
  return out;
}

std::unique_ptr<client::Client> Cluster::client(std::vector<std::string> eps,
                                                std::chrono::milliseconds request_timeout) const {
  client::Options o;
  o.endpoints = eps.empty() ? endpoints() : std::move(eps);
  o.request_timeout = request_timeout;
  o.connect_timeout = std::chrono::milliseconds(300);
  o.read_attempt_timeout = std::chrono::milliseconds(500);
  if (options_.client_wire == "zmq") o.wire = net::ClientWire::kZmq;
  if (options_.client_wire == "tcp") o.wire = net::ClientWire::kTcp;
  if (options_.client_options) options_.client_options(o);
  auto c = client::Client::connect(o);
  if (!c.ok()) throw std::runtime_error("client: " + client::to_string(c.error()));
  return std::move(c).value();
}

bool Cluster::try_start_member(size_t i, bool existing, std::string& why) {
  MemberSlot& s = slots_.at(i);
  std::vector<std::string> args = {
      "--name", s.name, "--data-dir", s.data_dir, "--listen-peer", s.peer_url(),
      "--listen-client", s.client_url(), "--initial-cluster", initial_cluster(),
      "--initial-cluster-state", existing ? "existing" : "new",
      "--tick-ms", std::to_string(options_.tick_ms),
      "--heartbeat-ticks", std::to_string(options_.heartbeat_ticks)};
  std::vector<std::string> more = options_.member_args ? options_.member_args(s.name) : std::vector<std::string>{};
  // A member may be given an election timeout of its own.
  if (std::find(more.begin(), more.end(), "--election-ticks") == more.end()) {
    args.insert(args.end(), {"--election-ticks", std::to_string(options_.election_ticks)});
  }
  if (options_.snapshot_count) {
    args.insert(args.end(), {"--snapshot-count", std::to_string(options_.snapshot_count)});
  }
  if (options_.snapshot_catchup_entries) {
    args.insert(args.end(),
                {"--snapshot-catchup-entries", std::to_string(options_.snapshot_catchup_entries)});
  }
  if (options_.http) args.insert(args.end(), {"--listen-http", s.http_url()});
  if (options_.peer_proxies) args.insert(args.end(), {"--advertise-peer", s.advertised_peer_url()});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (!options_.client_wire.empty()) {
    args.push_back("--client-wire");
    args.push_back(options_.client_wire);
  }
  args.insert(args.end(), more.begin(), more.end());
  const size_t log_start = read_file(s.log_path).size();
  if (s.launcher.empty()) {
    s.process = Process::spawn(corrald_path(), args, s.log_path);
  } else {
    std::vector<std::string> launched(s.launcher.begin() + 1, s.launcher.end());
    launched.push_back(corrald_path());
    launched.insert(launched.end(), args.begin(), args.end());
    s.process = Process::spawn(s.launcher.front(), launched, s.log_path);
  }
  s.paused = false;
  bool ready = wait_until(
      [&] {
        if (s.process.poll()) return true;
        std::string log = read_file(s.log_path);
        return ready_id(log, log_start).has_value();
      },
      kReadyTimeoutMs);
  if (auto st = s.process.poll()) {
    why = s.name + " exited with status " + std::to_string(*st) + ": " +
          read_file(s.log_path).substr(log_start);
    s.process.kill_and_wait();
    return false;
  }
  if (!ready) {
    why = s.name + " not ready within " + std::to_string(kReadyTimeoutMs.count()) + " ms";
    s.process.kill_and_wait();
    return false;
  }
  return true;
}

void Cluster::start() {
  std::string why;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    bool all = true;
    for (size_t i = 0; i < slots_.size() && all; ++i) all = try_start_member(i, false, why);
    if (all && wait_for_leader()) return;
    if (all) why = "no leader within " + std::to_string(kLeaderTimeoutMs.count()) + " ms";
    // A port was taken between the probe and the bind: start over, fresh.
    for (auto& s : slots_) {
      if (s.process.valid()) s.process.kill_and_wait();
      std::error_code ec;
      std::filesystem::remove_all(s.data_dir, ec);
      allocate_ports(s);
    }
    std::fprintf(stderr, "cluster start attempt %d failed: %s\n", attempt + 1, why.c_str());
  }
  throw std::runtime_error("cluster did not start: " + why);
}

size_t Cluster::start_with_leader() {
  start();
  std::optional<size_t> leader = wait_for_leader();
  if (!leader) throw std::runtime_error("cluster started, then had no leader for " + std::to_string(kLeaderTimeoutMs.count()) + " ms");
  return *leader;
}

void Cluster::start_member(size_t i, bool existing) {
  std::string why;
  if (!try_start_member(i, existing, why)) throw std::runtime_error("restart failed: " + why);
}

int Cluster::signal_member(size_t i, int sig) {
  MemberSlot& s = slots_.at(i);
  if (!s.process.valid()) return -1;
  if (sig == SIGKILL) return s.process.kill_and_wait();
  s.process.signal(sig);
  if (sig == SIGTERM) {
    if (s.paused) s.process.signal(SIGCONT);
    auto st = s.process.wait_for(kReadyTimeoutMs);
    int status = st ? *st : -1;
    if (!st) s.process.kill_and_wait();
    s.process = Process();
    return status;
  }
  return 0;
}

void Cluster::pause_member(size_t i) {
  slots_.at(i).process.signal(SIGSTOP);
  slots_.at(i).paused = true;
  // Paused means paused: no thread of it answers a peer after this returns.
  if (!slots_.at(i).process.wait_stopped(std::chrono::seconds(5))) {
    throw std::runtime_error("member " + std::to_string(i) + " not stopped 5 s after SIGSTOP");
  }
}

void Cluster::resume_member(size_t i) {
  slots_.at(i).process.signal(SIGCONT);
  slots_.at(i).paused = false;
}

void Cluster::wipe_member(size_t i) {
  if (slots_.at(i).running()) throw std::runtime_error("wipe of a running member");
  std::filesystem::remove_all(slots_.at(i).data_dir);
}

void Cluster::rename_member(size_t i, std::string name) { slots_.at(i).name = std::move(name); }

std::optional<client::StatusResult> Cluster::status(size_t i, std::chrono::milliseconds timeout) const {
  client::CallOptions co;
  co.timeout = timeout;
  auto r = status_client_->status_of(slots_.at(i).client_url(), co);
  if (!r.ok()) return std::nullopt;
  return r.value();
}

std::optional<size_t> Cluster::wait_for_leader(std::chrono::milliseconds timeout, uint64_t not_id) {
  std::optional<size_t> found;
  wait_until(
      [&] {
        uint64_t agreed = 0;
        size_t asked = 0;
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (!slots_[i].running() || slots_[i].paused) continue;
          auto st = status(i);
          if (!st || st->leader == 0) return false;
          if (asked++ > 0 && st->leader != agreed) return false;
          agreed = st->leader;
        }
        if (agreed == 0 || agreed == not_id) return false;
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (slots_[i].running() && !slots_[i].paused && member_id(i) == agreed) {
            found = i;
            return true;
          }
        }
        return false;
      },
      timeout, std::chrono::milliseconds(20));
  return found;
}

bool Cluster::wait_applied(size_t i, uint64_t index, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        auto st = status(i);
        return st && st->raft_applied_index >= index;
      },
      timeout, std::chrono::milliseconds(20));
}

std::string Cluster::log_of(size_t i) const { return read_file(slots_.at(i).log_path); }

}  // namespace corral::integration
