// corral-agent --metrics-listen: a real agent (source and collector in one
// process) on a real member, scraped with curl while it collects lines.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/process.h"

namespace {

using namespace corral::integration;
using namespace std::chrono_literals;

constexpr auto kScrapeTimeout = 20'000ms;
const std::string kTask = "web/access/127.0.0.1";

std::string agent_path() { return CORRAL_AGENT_PATH; }

// curl's body (and, with code, the HTTP status on the last line).
RunResult curl(const Cluster& cluster, const std::string& url, bool status_code = false) {
  std::vector<std::string> args = {"-sS", "--max-time", "2", url};
  if (status_code) args = {"-sS", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", url};
  return run_program("/usr/bin/curl", args, cluster.root() + "/curl.out", 5000ms);
}

// The value of one sample line (`name{labels} value`) in a scrape, if there.
std::optional<double> sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  at += series.size() + 2;
  return std::strtod(text.c_str() + at, nullptr);
}

void append_lines(const std::string& path, int from, int count) {
  std::ofstream out(path, std::ios::app);
  for (int i = from; i < from + count; ++i) out << "line " << i << "\n";
}

struct AgentRun {
  Process process;
  std::string url;
  std::string log_path;
};

AgentRun start_agent(Cluster& cluster, const std::string& dir) {
  AgentRun run;
  run.log_path = dir + "/agent.out";  // not *.log: the source would tail it
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int fetch_port = next_free_port();
    const int metrics_port = next_free_port();
    run.url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
    const size_t log_start = read_file(run.log_path).size();
    run.process = Process::spawn(agent_path(),
                                 {"--endpoints", cluster.endpoints_text(), "--id", "metrics-agent", "--ip",
                                  "127.0.0.1", "--roles", "source,collector", "--listen",
                                  "tcp://127.0.0.1:" + std::to_string(fetch_port), "--source",
                                  "web/access=" + dir + "/*.log", "--sink-dir", dir + "/sink",
                                  "--checkpoint-interval-ms", "100", "--rotation-grace-ms", "0",
                                  "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)},
                                 run.log_path);
    std::optional<int> exited;
    bool ready = wait_until(
        [&] {
          exited = run.process.poll();
          return exited || read_file(run.log_path).substr(log_start).find("collector: writing to") != std::string::npos;
        },
        15'000ms);
    if (ready && !exited) return run;
    run.process = Process();  // a port taken meanwhile: try fresh ones
  }
  FAIL("corral-agent did not start: " << read_file(run.log_path));
  return run;
}

}  // namespace

TEST_CASE("corral-agent serves /metrics and its counters move as lines are collected", "[agent_metrics]") {
  ClusterOptions o;
  o.members = 1;
  Cluster cluster(o);
  cluster.start();
  const std::string dir = cluster.root() + "/agent";
  REQUIRE(std::system(("mkdir -p " + dir + "/sink").c_str()) == 0);
  const std::string log_file = dir + "/access.log";
  append_lines(log_file, 0, 100);

  AgentRun agent = start_agent(cluster, dir);
  const std::string lines_series = "corral_agent_collected_lines_total{task=\"" + kTask + "\"}";

  std::string text;
  auto lines_reach = [&](double want) {
    return wait_until(
        [&] {
          auto r = curl(cluster, agent.url);
          text = r.out;
          auto v = sample(text, lines_series);
          return r.exit_code == 0 && v && *v >= want;
        },
        kScrapeTimeout, 50ms);
  };
  INFO(read_file(agent.log_path));
  REQUIRE(lines_reach(100));
  INFO(text);
  CHECK(sample(text, lines_series) == 100);
  CHECK(sample(text, "corral_agent_collected_bytes_total{task=\"" + kTask + "\"}") > 0);
  CHECK(sample(text, "corral_agent_tasks_assigned") == 1);
  CHECK(sample(text, "corral_agent_source_files_open") >= 1);
  CHECK(sample(text, "corral_agent_sink_write_duration_seconds_count") >= 1);
  CHECK(sample(text, "corral_agent_fetch_errors_total") == 0);
  CHECK(text.find("# TYPE corral_agent_collected_lines_total counter\n") != std::string::npos);

  // More lines: the counter follows, and checkpoints are committed (synced first).
  append_lines(log_file, 100, 50);
  REQUIRE(lines_reach(150));
  CHECK(sample(text, lines_series) == 150);
  REQUIRE(wait_until(
      [&] {
        text = curl(cluster, agent.url).out;
        return sample(text, "corral_agent_checkpoint_commits_total").value_or(0) >= 1 &&
               sample(text, "corral_agent_sink_fsync_duration_seconds_count").value_or(0) >= 1 &&
               sample(text, "corral_agent_collection_lag_bytes{task=\"" + kTask + "\"}") == 0;
      },
      kScrapeTimeout, 50ms));

  // Only GET /metrics.
  const std::string base = agent.url.substr(0, agent.url.size() - std::string("/metrics").size());
  CHECK(curl(cluster, base + "/other", true).out == "404");

  // Prometheus's own linter accepts the text, when it is installed.
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    std::ofstream(dir + "/scrape.txt") << text;
    auto lint = run_program("/bin/sh", {"-c", "promtool check metrics < " + dir + "/scrape.txt"},
                            cluster.root() + "/promtool.out", 10'000ms);
    INFO(lint.out);
    CHECK(lint.exit_code == 0);
  } else {
    WARN("promtool not installed: the scrape was not linted");
  }
  agent.process.signal(SIGTERM);
  CHECK(agent.process.wait_for(15'000ms) == 0);
}

TEST_CASE("corral-agent refuses a bad --metrics-listen", "[agent_metrics]") {
  auto scratch = "/tmp/corral_agent_metrics_" + std::to_string(::getpid());
  auto bad = run_program(agent_path(),
                         {"--endpoints", "tcp://127.0.0.1:1", "--ip", "127.0.0.1", "--roles", "collector",
                          "--sink", "stdout", "--metrics-listen", "127.0.0.1"},
                         scratch, 5000ms);
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("--metrics-listen") != std::string::npos);
  std::remove(scratch.c_str());
}
