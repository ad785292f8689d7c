// corral-agent: a host's agent. As a source it tails the host's log files
// and serves them to collectors; as a collector it runs the tasks the
// cluster assigns to it; one process may be both. Configuration:
// agent/config/config.h (flags, a config file, CORRAL_AGENT_* variables).
//
// Threads: main (signals, status lines), the source's fetch server, the
// collector's loop, and the client library's I/O and lease keeper threads.
//
// SIGTERM or SIGINT is a graceful stop: the collector stops fetching, makes
// its sink durable and commits a final checkpoint for every task; then the
// agent revokes its lease, so its streams and tasks move at once and each
// successor starts where it stopped.
//
// Exit codes: 0 stopped cleanly; 2 bad configuration; 3 the cluster could
// not be reached or refused the registration; 4 a role could not start.
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "agent/collector/collector.h"
#include "agent/config/config.h"
#include "agent/config/version.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/metrics_server.h"
#include "agent/sink/factory.h"
#include "agent/source/fetch_server.h"
#include "agent/source/tailer.h"
#include "client/client.h"
#include "client/collection.h"
#include "client/curve_options.h"
#include "client/wire_flag.h"

namespace {

using namespace corral;
namespace records = corral::schema::records;

constexpr int kExitOk = 0;
constexpr int kExitConfig = 2;
constexpr int kExitCluster = 3;
constexpr int kExitRole = 4;
constexpr int64_t kStatusIntervalMs = 10'000;
constexpr int64_t kSignalPollMs = 200;

void log_line(const std::string& line) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03ldZ corral-agent: %s\n", when, ts.tv_nsec / 1'000'000, line.c_str());
}

// Waits for SIGINT/SIGTERM (blocked, so they queue) up to `ms`.
bool stop_signal_within(int64_t ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

client::collection::RegistrationSpec registration_of(const agent::config::AgentConfig& c) {
  client::collection::RegistrationSpec spec;
  spec.agent_id = c.id;
  spec.ttl_seconds = c.lease_ttl_seconds;
  auto& a = spec.agent;
  a.host = c.host;
  a.ip = c.ip;
  a.source = c.source;
  a.collector = c.collector;
  a.capacity = c.capacity;
  a.version = agent::config::kAgentVersion;
  if (c.source) a.endpoint = c.advertised_endpoint();
  if (!c.zone.empty()) a.labels["zone"] = c.zone;
  for (const auto& s : c.sources) {
    records::StreamRecord r{c.id, c.advertised_endpoint(), s.globs, c.zone};
    spec.streams.push_back({records::TaskName{s.app, s.topic, c.ip}, r});
  }
  return spec;
}

// The source role: the tailer and its fetch server, on their own thread.
class SourceRole {
 public:
  std::string start(zmq::context_t& context, const agent::config::AgentConfig& c, agent::AgentMetrics& metrics) {
    std::vector<agent::source::StreamConfig> streams;
    for (const auto& s : c.sources) streams.push_back({s.name(), s.globs});
    agent::source::TailerOptions options;
    options.files.finish_grace = std::chrono::milliseconds(c.rotation_grace_ms);
    auto tailer = agent::source::Tailer::create(streams, options);
    if (!tailer.ok()) return "source: " + agent::fetch::to_string(tailer.error());
    tailer_ = std::move(tailer).value();
    auto server = agent::source::FetchServer::create(context, *tailer_, {c.listen});
    if (!server.ok()) return "source: cannot serve on " + c.listen + ": " + agent::fetch::to_string(server.error());
    server_ = std::move(server).value();
    log_line("source: serving " + std::to_string(streams.size()) + " streams on " + server_->bound_endpoint());
    thread_ = std::thread([this, &metrics] {
      while (!stop_.load()) {
        auto s = server_->poll_once(agent::source::kRunPollTimeout);
        if (!s.ok()) return log_line("source: fetch server stopped: " + agent::fetch::to_string(s.error()));
        metrics.source_files_open.set(static_cast<double>(tailer_->open_files()));
      }
    });
    return {};
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  ~SourceRole() { stop(); }

 private:
  std::unique_ptr<agent::source::Tailer> tailer_;
  std::unique_ptr<agent::source::FetchServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void log_status(const agent::collector::Collector* collector) {
  if (collector == nullptr) return;
  auto s = collector->stats();
  log_line("collector: " + std::to_string(collector->tasks().size()) + " tasks, " + std::to_string(s.lines) +
           " lines (" + std::to_string(s.bytes) + " bytes) delivered, " + std::to_string(s.checkpoints) +
           " checkpoints, " + std::to_string(s.tasks_released) + " released, " + std::to_string(s.tasks_fenced) +
           " fenced, " + std::to_string(s.fetch_errors) + " fetch errors");
}

int run(const agent::config::AgentConfig& c) {
  client::Options co;
  co.endpoints = c.endpoints;
  if (std::string bad = client::apply_curve_flags(c.curve_key_file, c.curve_server_key, co); !bad.empty()) {
    log_line("error: " + bad);
    return kExitConfig;
  }
  if (std::string bad = client::apply_wire_flag(c.client_wire, co); !bad.empty()) {
    log_line("error: " + bad);
    return kExitConfig;
  }
  co.user = c.user;
  co.password = c.password;
  auto client = client::Client::connect(co);
  if (!client.ok()) {
    log_line("error: " + client::to_string(client.error()));
    return kExitConfig;
  }
  zmq::context_t context(1);
  agent::AgentMetrics metrics;
  std::unique_ptr<agent::MetricsServer> metrics_server;
  if (!c.metrics_listen.empty()) {
    std::string problem;
    metrics_server = agent::MetricsServer::start(c.metrics_listen, metrics.registry, problem);
    if (!metrics_server) return log_line("error: --metrics-listen: " + problem), kExitRole;
    log_line("metrics: serving http://" + metrics_server->bound() + "/metrics");
  }
  SourceRole source;
  if (c.source) {
    auto problem = source.start(context, c, metrics);
    if (!problem.empty()) return log_line("error: " + problem), kExitRole;
  }
  std::unique_ptr<agent::sink::Sink> sink;
  std::unique_ptr<agent::collector::Collector> collector;
  if (c.collector) {
    auto made = agent::sink::make_sink(c.sink);
    if (!made.ok()) return log_line("error: sink " + c.sink + ": " + agent::sink::to_string(made.error())), kExitRole;
    sink = std::move(made).value();
  }
  client::collection::Registration registration(**client, registration_of(c), log_line);
  if (auto s = registration.start(); !s.ok()) {
    log_line("error: cannot register with the cluster at " + c.endpoints.front() + "...: " + client::to_string(s.error()));
    return kExitCluster;
  }
  if (c.collector) {
    agent::collector::CollectorOptions o;
    o.collector_id = c.id;
    o.checkpoint_interval_ms = c.checkpoint_interval_ms;
    o.fetch_max_bytes = c.fetch_max_bytes;
    o.max_in_flight_fetches = c.max_in_flight_fetches;
    o.metrics = &metrics;
    collector = std::make_unique<agent::collector::Collector>(**client, context, *sink, o, log_line);
    if (auto s = collector->start(); !s.ok()) {
      log_line("error: collector: " + client::to_string(s.error()));
      registration.stop(true);
      return kExitCluster;
    }
    log_line("collector: writing to " + sink->describe());
  }
  int64_t since_status = 0;
  while (!stop_signal_within(kSignalPollMs)) {
    since_status += kSignalPollMs;
    if (since_status >= kStatusIntervalMs) {
      since_status = 0;
      log_status(collector.get());
    }
  }
  log_line("stopping: final checkpoints, then deregistering");
  if (collector) collector->stop(std::chrono::milliseconds(c.release_timeout_ms));
  log_status(collector.get());
  registration.stop(true);
  source.stop();
  log_line("stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  agent::config::ParseOutcome parsed;
  try {
    parsed = agent::config::parse_agent_config(argc, argv);
  } catch (const agent::config::ConfigError& e) {
    std::fprintf(stderr, "corral-agent: %s\n", e.what());
    return kExitConfig;
  }
  if (parsed.print_and_exit) {
    std::fputs(parsed.print_and_exit->c_str(), stdout);
    return kExitOk;
  }
  // Blocked in every thread (inherited), so that main alone takes them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A source holds up to ~1k files open per stream (rotated files not yet
  // collected): take the whole hard limit rather than die at 1024.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  const auto& c = parsed.config;
  log_line("agent " + c.id + " (" + c.ip + ") starting as " + (c.source ? "source" : "") +
           (c.source && c.collector ? "+" : "") + (c.collector ? "collector" : "") + ", version " +
           agent::config::kAgentVersion);
  return run(c);
}
