#include "tests/integration/harness/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace corral::integration {

Process Process::spawn(const std::string& path, const std::vector<std::string>& args,
                       const std::string& log_path) {
  std::vector<std::string> argv_store;
  argv_store.push_back(path);
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The tests' own tuning variables (CORRAL_WORKLOAD_SABOTAGE, ...) are not
  // corrald flags, and corrald refuses a CORRAL_ variable that names none:
  // children do not inherit them.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    if (var.starts_with("CORRAL_WORKLOAD_") || var.starts_with("CORRAL_TORTURE_") ||
        var.starts_with("CORRAL_PARTITION_")) {
      continue;
    }
    env_store.emplace_back(var);
  }
  std::vector<char*> envp;
  for (auto& v : env_store) envp.push_back(v.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    int in = open("/dev/null", O_RDONLY);
    int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    // Signals blocked in the test thread would be inherited: unblock them.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from here: no race with an early signal
  Process p;
  p.pid_ = pid;
  return p;
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
  other.status_.reset();
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (valid()) kill_and_wait();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
    other.status_.reset();
  }
  return *this;
}

Process::~Process() {
  if (valid()) kill_and_wait();
}

void Process::signal(int sig) const {
  if (pid_ > 0) ::kill(-pid_, sig);
}

namespace {

// The state letter and process group of /proc/<pid>[/task/<tid>]/stat.
std::optional<std::pair<char, pid_t>> stat_state(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  char state = 0;
  pid_t ppid = 0, pgrp = 0;
  if (!(rest >> state >> ppid >> pgrp)) return std::nullopt;
  return std::make_pair(state, pgrp);
}

// Whether every thread of every process in group `pgrp` is stopped.
bool group_stopped(pid_t pgrp) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string name = proc.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto st = stat_state(proc.path() / "stat");
    if (!st || st->second != pgrp) continue;
    std::error_code tec;
    for (const auto& task : fs::directory_iterator(proc.path() / "task", tec)) {
      auto ts = stat_state(task.path() / "stat");
      if (ts && ts->first != 'T' && ts->first != 't' && ts->first != 'Z' && ts->first != 'X') return false;
    }
  }
  return true;
}

}  // namespace

bool Process::wait_stopped(std::chrono::milliseconds timeout) const {
  if (pid_ <= 0) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (group_stopped(pid_)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::optional<int> Process::poll() {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == 0) return std::nullopt;
  if (r < 0) {
    status_ = -1;  // not our child any more (should not happen)
    return status_;
  }
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  // Whatever the leader left in its group goes too.
  ::kill(-pid_, SIGKILL);
  return status_;
}

std::optional<int> Process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto s = poll()) return s;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kProcessPollMs);
  }
}

int Process::kill_and_wait() {
  if (pid_ <= 0) return -1;
  if (!status_) {
    signal(SIGKILL);
    signal(SIGCONT);
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  int s = *status_;
  pid_ = -1;
  status_.reset();
  return s;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RunResult run_program(const std::string& path, const std::vector<std::string>& args,
                      const std::string& scratch_path, std::chrono::milliseconds timeout) {
  ::unlink(scratch_path.c_str());
  Process p = Process::spawn(path, args, scratch_path);
  RunResult r;
  auto status = p.wait_for(timeout);
  r.exit_code = status ? *status : -1;
  if (!status) p.kill_and_wait();
  r.out = read_file(scratch_path);
  return r;
}

std::optional<long> resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      try {
        return std::stol(line.substr(6));  // "VmRSS:   12345 kB"
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace corral::integration
