// corralctl's operator aids with real processes: the error of a cluster
// that lost its quorum says so (and a port that is no corral member is
// named as such), member add prints how to start the new member and member
// list shows it unstarted, the bash completion script parses and lists
// every command, and help prints a command's example and exit codes.
#include <catch2/catch.hpp>

#include <csignal>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kCommandTimeoutMs{30'000};

RunResult ctl(const std::string& scratch, const std::vector<std::string>& args) {
  return run_program(corralctl_path(), args, scratch, kCommandTimeoutMs);
}

// A TCP listener that never speaks: "a port that answers but is no corral member".
struct SilentListener {
  int fd = -1;
  int port = 0;
  SilentListener() {
    port = next_free_port();
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd, 16) == 0);
  }
  ~SilentListener() { ::close(fd); }
};

}  // namespace

TEST_CASE("corralctl: lost quorum and foreign ports are named in the error", "[integration][corralctl][quorum]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  const std::string scratch = cluster.root() + "/ctl.out";
  cluster.signal_member(1, SIGKILL);
  cluster.signal_member(2, SIGKILL);
  RunResult put = ctl(scratch, {"--endpoints", cluster.endpoints_text(), "--command-timeout", "3s", "put", "/q", "v"});
  INFO("put without quorum -> " << put.exit_code << ": " << put.out);
  CHECK((put.exit_code == 3 || put.exit_code == 4));
  CHECK(put.out.find("no leader: 1 of 3 members reachable") != std::string::npos);
  CHECK(put.out.find(cluster.member(1).client_url() + ": nothing accepts connections") != std::string::npos);

  SilentListener foreign;
  const std::string foreign_ep = "127.0.0.1:" + std::to_string(foreign.port);
  RunResult get = ctl(scratch, {"--endpoints", foreign_ep, "--command-timeout", "2s", "get", "/q"});
  INFO("get from a foreign port -> " << get.exit_code << ": " << get.out);
  CHECK((get.exit_code == 3 || get.exit_code == 4));
  CHECK(get.out.find(foreign_ep + ": accepts connections but did not answer as a corral member") != std::string::npos);
}

TEST_CASE("corralctl member add prints the start flags, member list shows it unstarted", "[integration][corralctl][member]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  const std::string scratch = cluster.root() + "/ctl.out";
  const std::string peer = "127.0.0.1:" + std::to_string(next_free_port());
  RunResult add = ctl(scratch, {"--endpoints", cluster.endpoints_text(), "member", "add", "n4", "--peer-urls", peer,
                                "--learner"});
  INFO("member add -> " << add.exit_code << ": " << add.out);
  CHECK(add.exit_code == 0);
  CHECK(add.out.find("CORRAL_NAME=\"n4\"") != std::string::npos);
  CHECK(add.out.find("CORRAL_INITIAL_CLUSTER_STATE=\"existing\"") != std::string::npos);
  CHECK(add.out.find("--initial-cluster-state existing") != std::string::npos);
  CHECK(add.out.find("n4=tcp://" + peer) != std::string::npos);
  CHECK(add.out.find("n1=" + cluster.member(0).peer_url()) != std::string::npos);
  RunResult list = ctl(scratch, {"--endpoints", cluster.endpoints_text(), "member", "list"});
  INFO("member list -> " << list.out);
  CHECK(list.exit_code == 0);
  CHECK(list.out.find(", unstarted, n4, ") != std::string::npos);
  CHECK(list.out.find(", started, n1, ") != std::string::npos);
}

TEST_CASE("corralctl completion bash parses and lists every command, help shows examples", "[integration][corralctl][completion]") {
  char tmpl[] = "/tmp/corral-completion-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  RunResult script = ctl(dir + "/out", {"completion", "bash"});
  REQUIRE(script.exit_code == 0);
  {
    std::ofstream f(dir + "/corralctl.bash");
    f << script.out;
  }
  RunResult syntax = run_program("/bin/bash", {"-n", dir + "/corralctl.bash"}, dir + "/bash.out", kCommandTimeoutMs);
  INFO("bash -n -> " << syntax.out);
  CHECK(syntax.exit_code == 0);
  // The top level's words, space-padded.
  const std::string top_mark = "\"\") opts=\"";
  const size_t top = script.out.find(top_mark);
  REQUIRE(top != std::string::npos);
  const size_t top_end = script.out.find('"', top + top_mark.size());
  const std::string top_words = " " + script.out.substr(top + top_mark.size(), top_end - top - top_mark.size()) + " ";
  for (const char* command : {"put", "get", "del", "ls", "watch", "txn", "compaction", "defrag", "snapshot", "lease",
                              "member", "move-leader", "endpoint", "agents", "tasks", "collector", "rebalance", "lock",
                              "elect", "completion", "help"}) {
    INFO(command);
    CHECK(top_words.find(std::string(" ") + command + " ") != std::string::npos);
  }
  // The function completes: "corralctl snapshot re" -> restore; "corralctl lea" -> lease.
  RunResult done = run_program(
      "/bin/bash",
      {"-c", "source " + dir + "/corralctl.bash; COMP_WORDS=(corralctl snapshot re); COMP_CWORD=2; _corralctl; "
             "echo \"${COMPREPLY[*]}\"; COMP_WORDS=(corralctl lea); COMP_CWORD=1; _corralctl; echo \"${COMPREPLY[*]}\""},
      dir + "/complete.out", kCommandTimeoutMs);
  INFO("completion -> " << done.out);
  CHECK(done.out == "restore\nlease\n");

  RunResult help = ctl(dir + "/out", {"help", "snapshot", "restore"});
  INFO("help snapshot restore -> " << help.out);
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Example:") != std::string::npos);
  CHECK(help.out.find("--initial-cluster") != std::string::npos);
  CHECK(help.out.find("Exit codes:") != std::string::npos);
  RunResult unknown = ctl(dir + "/out", {"help", "no-such"});
  CHECK(unknown.exit_code == 2);
  std::filesystem::remove_all(dir);
}
