// A child process in its own process group, for tests that start real
// corrald and corralctl processes. The group is what gets signalled, so a
// child's own children go with it; the child also dies with the thread that
// forked it (PR_SET_PDEATHSIG), so a test binary killed by ctest leaves no
// stray members behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace corral::integration {

// How often wait loops look at a child again.
inline constexpr std::chrono::milliseconds kProcessPollMs{5};

class Process {
 public:
  Process() = default;
  // Starts `path` with `args` (argv[1..]), stdout and stderr appended to
  // `log_path` (stdin is /dev/null). Throws std::runtime_error if fork fails.
  static Process spawn(const std::string& path, const std::vector<std::string>& args,
                       const std::string& log_path);
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // SIGKILLs the group and reaps the child if it still runs.
  ~Process();

  pid_t pid() const { return pid_; }
  bool valid() const { return pid_ > 0; }
  // Sends `sig` to the whole process group.
  void signal(int sig) const;
  // Waits up to `timeout` until every thread of every process in the group
  // is stopped (after SIGSTOP). kill() returns once one thread is told; the
  // others (a member's node loop, ZeroMQ's I/O thread) run on until that
  // thread is scheduled, tens of ms on a loaded machine. False on timeout.
  bool wait_stopped(std::chrono::milliseconds timeout) const;
  // The exit status once the child has ended (128 + signal number if killed
  // by a signal), reaping it; nullopt while it runs.
  std::optional<int> poll();
  // Waits up to `timeout` for the end; nullopt if it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // SIGKILLs the group and waits for the end. Returns the exit status.
  int kill_and_wait();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct RunResult {
  int exit_code = -1;  // -1: did not finish in time (then killed)
  std::string out;     // stdout and stderr, interleaved
};

// Runs a program to completion with a deadline, collecting its output
// through `scratch_path` (a file the caller may reuse).
RunResult run_program(const std::string& path, const std::vector<std::string>& args,
                      const std::string& scratch_path, std::chrono::milliseconds timeout);

std::string read_file(const std::string& path);

// Resident set size of process `pid` in KiB (VmRSS of /proc/<pid>/status),
// or nullopt if it cannot be read (the process is gone).
std::optional<long> resident_kib(pid_t pid);

}  // namespace corral::integration
