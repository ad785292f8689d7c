#include "tests/fault/netns_lab.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "tests/integration/harness/process.h"

namespace corral::fault {
namespace {

constexpr const char* kIp = "/usr/bin/ip";
constexpr const char* kNsPrefix = "corral-";
constexpr const char* kBridge = "corralbr0";
constexpr const char* kBridgeAddress = "10.213.0.1/24";
// A MAC no interface has: frames sent to it are dropped by every port.
constexpr const char* kNowhereMac = "02:00:00:00:de:ad";
constexpr std::chrono::milliseconds kCommandTimeout{10'000};

std::string scratch_path() { return "/tmp/corral-netns-" + std::to_string(::getpid()) + ".out"; }

// Removes namespaces of earlier test processes that are gone.
void remove_stale_namespaces() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kNsPrefix, 0) != 0) continue;
    const std::string rest = name.substr(std::char_traits<char>::length(kNsPrefix));
    const pid_t pid = static_cast<pid_t>(std::atol(rest.c_str()));
    if (pid > 0 && ::kill(pid, 0) != 0) {
      integration::run_program(kIp, {"netns", "del", name}, scratch_path(), kCommandTimeout);
    }
  }
}

size_t thread_count() {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

}  // namespace

std::string NetnsLab::unavailable_reason() {
  if (::geteuid() != 0) return "not root (network namespaces need CAP_SYS_ADMIN)";
  if (::access(kIp, X_OK) != 0) return std::string(kIp) + " is missing (Debian package iproute2)";
  return "";
}

NetnsLab::NetnsLab(size_t members)
    : members_(members),
      prefix_(std::string(kNsPrefix) + std::to_string(::getpid()) + "-"),
      cut_(members, std::vector<bool>(members, false)),
      down_(members, false) {
  if (thread_count() != 1) throw std::runtime_error("NetnsLab: the process must be single-threaded");
  if (::unshare(CLONE_NEWNET) != 0) throw std::runtime_error("NetnsLab: unshare(CLONE_NEWNET) failed");
  remove_stale_namespaces();
  run({"link", "set", "lo", "up"});
  run({"link", "add", kBridge, "type", "bridge"});
  run({"addr", "add", kBridgeAddress, "dev", kBridge});
  run({"link", "set", kBridge, "up"});
  for (size_t i = 0; i < members_; ++i) {
    const std::string ns = ns_name(i);
    const std::string port = "cport" + std::to_string(i);
    run({"netns", "add", ns});
    run({"link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns});
    run({"link", "set", port, "master", kBridge});
    run({"link", "set", port, "up"});
    run({"netns", "exec", ns, kIp, "link", "set", "lo", "up"});
    run({"netns", "exec", ns, kIp, "addr", "add", host(i) + "/24", "dev", "eth0"});
    run({"netns", "exec", ns, kIp, "link", "set", "eth0", "up"});
  }
}

NetnsLab::~NetnsLab() {
  for (size_t i = 0; i < members_; ++i) {
    integration::run_program(kIp, {"netns", "del", ns_name(i)}, scratch_path(), kCommandTimeout);
  }
  std::error_code ec;
  std::filesystem::remove(scratch_path(), ec);
}

std::string NetnsLab::ns_name(size_t member) const { return prefix_ + std::to_string(member); }

std::string NetnsLab::host(size_t member) const { return "10.213.0." + std::to_string(11 + member); }

std::vector<std::string> NetnsLab::launcher(size_t member) const {
  return {kIp, "netns", "exec", ns_name(member)};
}

void NetnsLab::run(const std::vector<std::string>& args) const {
  integration::RunResult r = integration::run_program(kIp, args, scratch_path(), kCommandTimeout);
  if (r.exit_code != 0) {
    std::string cmd = "ip";
    for (const auto& a : args) cmd += " " + a;
    throw std::runtime_error("NetnsLab: `" + cmd + "` failed (exit " + std::to_string(r.exit_code) + "): " + r.out);
  }
}

void NetnsLab::cut(size_t from, size_t to) {
  run({"netns", "exec", ns_name(from), kIp, "neigh", "replace", host(to), "lladdr", kNowhereMac, "nud",
       "permanent", "dev", "eth0"});
  cut_.at(from).at(to) = true;
}

void NetnsLab::heal(size_t from, size_t to) {
  if (!cut_.at(from).at(to)) return;
  run({"netns", "exec", ns_name(from), kIp, "neigh", "del", host(to), "dev", "eth0"});
  cut_[from][to] = false;
}

void NetnsLab::isolate(size_t member) {
  for (size_t other = 0; other < members_; ++other) {
    if (other == member) continue;
    cut(member, other);
    cut(other, member);
  }
}

void NetnsLab::heal_all() {
  for (size_t a = 0; a < members_; ++a) {
    for (size_t b = 0; b < members_; ++b) heal(a, b);
    link_up(a);
  }
}

void NetnsLab::link_down(size_t member) {
  run({"link", "set", "cport" + std::to_string(member), "down"});
  down_.at(member) = true;
}

void NetnsLab::link_up(size_t member) {
  if (!down_.at(member)) return;
  run({"link", "set", "cport" + std::to_string(member), "up"});
  down_[member] = false;
}

}  // namespace corral::fault
