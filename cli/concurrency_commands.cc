#include "cli/concurrency_commands.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "client/concurrency/election.h"
#include "client/concurrency/mutex.h"
#include "client/concurrency/session.h"

namespace corral::cli {

namespace {

namespace cc = client::concurrency;

constexpr int kExitServerError = 1;
constexpr int kExitLocal = 5;
// How often a wait looks for a signal or the child's end.
constexpr int64_t kPollMs = 100;

int fail(const client::Error& e, const std::function<int(const client::Error&)>& exit_code_for) {
  std::fprintf(stderr, "Error: %s\n", client::to_string(e).c_str());
  return exit_code_for(e);
}

// Runs `command` and waits for it; a signal to corralctl meanwhile goes on
// to it. The exit code: its own, or 128 + the signal that ended it.
int run_child(const std::vector<std::string>& command, const std::string& key, int64_t revision,
              const std::function<bool(int64_t)>& interrupted_within) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("Error: fork");
    return kExitLocal;
  }
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    ::setenv("CORRAL_LOCK_KEY", key.c_str(), 1);
    ::setenv("CORRAL_LOCK_REV", std::to_string(revision).c_str(), 1);
    std::vector<char*> argv;
    for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "Error: cannot run %s\n", argv[0]);
    ::_exit(127);
  }
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (interrupted_within(kPollMs)) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, &status, 0);
      break;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitServerError;
}

}  // namespace

ConcurrencyCommands add_concurrency_commands(CLI::App& app, ConcurrencyArgs& a) {
  ConcurrencyCommands c;
  c.lock = app.add_subcommand(
      "lock",
      "lock NAME [COMMAND...]: take the distributed lock NAME, run COMMAND while holding it (or print the key "
      "and hold it until interrupted)");
  c.lock->add_option("name", a.name, "the lock: a key prefix")->required();
  c.lock->add_option("--ttl", a.ttl_seconds, "the session lease's TTL: how long a killed holder keeps the lock")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600}));
  c.lock->add_option("command", a.command_words, "the command to run while holding the lock (see split_lock_command)");
  c.elect = app.add_subcommand(
      "elect", "elect NAME [PROPOSAL]: campaign in election NAME and lead until interrupted; -l: print each leader");
  c.elect->add_option("name", a.name, "the election: a key prefix")->required();
  c.elect->add_option("proposal", a.proposal, "this candidate's value (what observers see)");
  c.elect->add_flag("-l,--listen", a.listen, "observe: print every new leader's key and value");
  c.elect->add_option("--ttl", a.ttl_seconds, "the session lease's TTL: how long a killed leader keeps leading")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600}));
  return c;
}

int run_lock(client::Client& client, const ConcurrencyArgs& a, const std::vector<std::string>& command,
             const std::function<bool(int64_t)>& interrupted_within,
             const std::function<int(const client::Error&)>& exit_code_for) {
  auto session = cc::Session::create(client, a.ttl_seconds);
  if (!session.ok()) return fail(session.error(), exit_code_for);
  cc::Mutex mutex(**session, a.name);
  std::atomic<bool> stop{false};
  client::Status locked = mutex.lock([&] { return stop || (stop = interrupted_within(0)); });
  if (!locked.ok()) return fail(locked.error(), exit_code_for);
  int rc = 0;
  if (!command.empty()) {
    rc = run_child(command, mutex.key(), mutex.revision(), interrupted_within);
  } else {
    std::cout << mutex.key() << std::endl;
    while (!interrupted_within(kPollMs)) {
      if ((*session)->lost()) {
        std::fprintf(stderr, "Error: the lock's session lease was lost: the lock is no longer held\n");
        rc = kExitServerError;
        break;
      }
    }
  }
  if (client::Status s = mutex.unlock(); !s.ok() && rc == 0) rc = fail(s.error(), exit_code_for);
  return rc;
}

int run_elect(client::Client& client, const ConcurrencyArgs& a, client::Printer& out,
              const std::function<bool(int64_t)>& interrupted_within,
              const std::function<int(const client::Error&)>& exit_code_for) {
  auto print = [&](const client::KeyValue& kv) {
    out.line(kv.key);
    out.line(kv.value);
    std::cout.flush();
  };
  std::atomic<bool> stop{false};
  auto should_stop = [&] { return stop || (stop = interrupted_within(0)); };
  if (a.listen) {
    client::Status s = cc::observe_election(client, a.name, print, should_stop);
    return s.ok() ? 0 : fail(s.error(), exit_code_for);
  }
  if (a.proposal.empty()) {
    std::fprintf(stderr, "Error: elect NAME PROPOSAL: a proposal is needed to campaign (or -l to observe)\n");
    return 2;
  }
  auto session = cc::Session::create(client, a.ttl_seconds);
  if (!session.ok()) return fail(session.error(), exit_code_for);
  cc::Election election(**session, a.name);
  client::Status won = election.campaign(a.proposal, should_stop);
  if (!won.ok()) return fail(won.error(), exit_code_for);
  print(client::KeyValue{election.key(), a.proposal, election.revision(), 0, 0, 0});
  int rc = 0;
  while (!interrupted_within(kPollMs)) {
    if ((*session)->lost()) {
      std::fprintf(stderr, "Error: the election's session lease was lost: no longer leader\n");
      rc = kExitServerError;
      break;
    }
  }
  if (client::Status s = election.resign(); !s.ok() && rc == 0) rc = fail(s.error(), exit_code_for);
  return rc;
}

}  // namespace corral::cli
