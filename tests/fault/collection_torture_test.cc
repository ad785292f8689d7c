// The proof that no log line is lost: real corrald members and corral-agent
// processes on 127.0.0.1 under a nemesis, with applications (threads of this
// test) appending numbered lines to the sources' log files all along.
//
// Topology: a 3-member cluster; 4 source agents, each serving two streams
// (app "torture"): "rn" (glob DIR/current.log, rotated by rename to
// current.log.N, which the glob does not match) and "rm" (glob
// DIR/access.log*, rotated to access.log.N, which it matches); 3 collector
// agents with file sinks, --checkpoint-interval-ms 200, --lease-ttl-seconds 2.
//
// Each round runs these steps in a seeded random order, a 1-2 s gap between
// them, the writers never stopping:
//  - kill -9 of a collector, restarted with the same id;
//  - kill -9 of a source agent, restarted (same port); every second time
//    only once its lease has expired and its stream keys are gone (the
//    tasks are dropped and given again at a new epoch);
//  - kill -9 of the corrald leader, restarted once a new leader is elected;
//  - SIGSTOP of a collector until its lease has expired and its tasks have
//    moved (both seen in the cluster), then SIGCONT: its checkpoints are
//    fenced and it registers again;
//  - (first round only) copytruncate of one "rn" stream.
// Rename rotations happen in every stream every 256 KiB (every few s); the
// writer goes on writing 0..20 lines to the renamed file through its open fd
// before it reopens its log (as an application does until logrotate's
// postrotate signal reaches it): the source's finish-grace rule at work.
//
// Fairness (what no log shipper can do, so the test does not ask it):
//  - copytruncate: lines written between the copy and the truncate, and lines
//    not yet read when the truncate comes, are gone from the file. The
//    stream's writer is paused (its mutex held) and the truncate waits until
//    the stream's checkpoint counts every line written (the copy is not
//    matched by the glob, so it is not read again).
//  - a source restarted while an "rn" file renamed away (matched by no glob)
//    is still unread cannot find that file again. Before a source kill, the
//    "rn" stream's rotations are held and the kill waits until its
//    checkpoint counts every line of the renamed files. "rm" streams (the
//    glob matches the rotated names) get no such help.
//
// Then the writers stop, the test waits (deadline) until every stream's
// checkpoint `lines` counts every line written, kills every agent and reads
// the union of the sinks (<sink>/torture/<topic>/<ip>.log). Checks per stream:
//  - lost 0: every seq written is in some sink file;
//  - corrupt 0: every sink line parses, is of its file's stream, and its
//    payload is the one written for its seq (payloads are a function of
//    seed, stream and seq), and ends in '\n';
//  - order: within one sink file, each line's seq is the previous + 1, or
//    greater (a skip: the task was at another collector meanwhile), or not
//    greater (a rewind: a re-delivery after a crash restarts at the last
//    checkpoint). Rewinds per stream <= 2 x faults + 2;
//  - duplicates (copies beyond the first) are counted; their bytes per
//    stream <= faults x (the stream's write rate x (interval + TTL + 5 s)
//    + 2 fetch replies): at-least-once re-delivers at most what was appended
//    after the last checkpoint. The 5 s is the source's finish grace: after
//    a rename the reader waits 5 s at the end of the old file, then reads
//    the new file's backlog (~5 s of lines) in one burst, so a crash within a
//    checkpoint interval of that burst re-delivers all of it (seen: 476
//    lines at 100 lines/s);
//  - the final checkpoint's `lines` equals the lines written.
//
// Environment: CORRAL_TORTURE_ROUNDS (default 2: ~45 s), CORRAL_TORTURE_SEED
// (replay; printed), CORRAL_TORTURE_SABOTAGE=1 (deletes one line from a sink
// file and damages another before the check: the test must then fail),
// CORRAL_TORTURE_KEEP=1 (keep the agents' dir even when the test passes).
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "client/collection.h"
#include "schema/log_records.h"
#include "tests/fault/collection_torture.h"
#include "tests/integration/harness/cluster.h"

using namespace corral::integration;
using namespace corral::fault::torture;
using namespace std::chrono_literals;
namespace collection = corral::client::collection;
namespace records = corral::schema::records;

namespace {

constexpr const char* kApp = "torture";
constexpr int kSources = 4;
constexpr int kCollectors = 3;
constexpr int kLeaseTtlSeconds = 2;
constexpr int kCheckpointIntervalMs = 200;
constexpr int kFetchMaxBytes = 64 * 1024;
constexpr int kLinesPerSecond = 100;  // per stream
constexpr auto kWriteTick = 10ms;
constexpr auto kWarmup = 2s;
constexpr auto kCooldown = 1500ms;
constexpr auto kStepWait = 20s;   // any one wait of a nemesis step
constexpr auto kDrainWait = 60s;  // for every checkpoint to count every line

uint64_t env_u64(const char* name, uint64_t fallback, uint64_t max) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::min<uint64_t>(std::strtoull(v, nullptr, 10), max);
}

enum class Step { kCollectorKill, kSourceKill, kLeaderKill, kCollectorStop, kCopyTruncate };

const char* step_name(Step s) {
  switch (s) {
    case Step::kCollectorKill: return "collector kill -9";
    case Step::kSourceKill: return "source kill -9";
    case Step::kLeaderKill: return "leader kill -9";
    case Step::kCollectorStop: return "collector SIGSTOP past its lease";
    case Step::kCopyTruncate: return "copytruncate";
  }
  return "?";
}

class Timeline {
 public:
  Timeline() : start_(Clock::now()) {}
  void add(const std::string& what) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
    char at[32];
    std::snprintf(at, sizeof at, "%7.2fs ", static_cast<double>(ms) / 1000.0);
    std::lock_guard lock(mu_);
    lines_ += at + what + "\n";
    std::printf("torture: %s%s\n", at, what.c_str());
    std::fflush(stdout);
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  Clock::time_point start_;
  std::mutex mu_;
  std::string lines_;
};

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// Deletes the line at about 1/3 of the largest sink file and changes one
// payload byte of the line at about 2/3.
void sabotage(const std::vector<std::string>& sink_dirs, Timeline& timeline) {
  std::filesystem::path largest;
  uintmax_t size = 0;
  for (const auto& d : sink_dirs) {
    if (!std::filesystem::exists(d)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(d)) {
      if (e.is_regular_file() && e.file_size() > size) {
        size = e.file_size();
        largest = e.path();
      }
    }
  }
  if (largest.empty()) return;
  std::ifstream in(largest, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  size_t a = data.find('\n', data.size() / 3) + 1;
  size_t a_end = data.find('\n', a) + 1;
  data.erase(a, a_end - a);
  size_t b = data.find('\n', 2 * data.size() / 3) + 1;
  size_t b_end = data.find('\n', b);
  data[b_end - 1] = data[b_end - 1] == 'a' ? 'b' : 'a';
  std::ofstream out(largest, std::ios::binary | std::ios::trunc);
  out << data;
  timeline.add("SABOTAGE: deleted one line and damaged another in " + largest.string());
}

}  // namespace

TEST_CASE("log collection torture: no line lost under agent, leader and rotation faults",
          "[fault][collection][torture]") {
  const uint64_t seed = env_u64("CORRAL_TORTURE_SEED", std::random_device{}() | 1, UINT64_MAX);
  const uint64_t rounds = std::max<uint64_t>(1, env_u64("CORRAL_TORTURE_ROUNDS", 2, 1000));
  const bool do_sabotage = env_u64("CORRAL_TORTURE_SABOTAGE", 0, 1) == 1;
  const bool keep = env_u64("CORRAL_TORTURE_KEEP", 0, 1) == 1;
  std::printf("torture: seed %llu, %llu rounds (replay: CORRAL_TORTURE_SEED=%llu CORRAL_TORTURE_ROUNDS=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(rounds),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(rounds));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  Timeline timeline;

  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto client = cluster.client({}, 2000ms);
  timeline.add("cluster up");

  std::string root_tmpl = (std::filesystem::temp_directory_path() / "corral-torture-XXXXXX").string();
  REQUIRE(::mkdtemp(root_tmpl.data()) != nullptr);
  const std::string root = root_tmpl;

  // The applications' log files.
  std::vector<std::unique_ptr<StreamWriter>> writers;  // 2 per source: rn, rm
  for (int s = 0; s < kSources; ++s) {
    const std::string ip = "10.0.0." + std::to_string(s + 1);
    const std::string dir = root + "/src" + std::to_string(s);
    writers.push_back(std::make_unique<StreamWriter>(seed, ip, "rn", dir + "/rn",
                                                     StreamWriter::Shape::kRenameUnmatched));
    writers.push_back(std::make_unique<StreamWriter>(seed, ip, "rm", dir + "/rm",
                                                     StreamWriter::Shape::kRenameMatched));
  }
  const auto rn_of = [&](int source) -> StreamWriter& { return *writers[static_cast<size_t>(2 * source)]; };

  // The agents.
  std::vector<std::unique_ptr<Agent>> sources, collectors;
  std::vector<std::string> sink_dirs;
  for (int s = 0; s < kSources; ++s) {
    const std::string id = "src-" + std::to_string(s);
    std::vector<std::string> args = {
        "--endpoints", cluster.endpoints_text(), "--id", id, "--ip", rn_of(s).ip, "--host", id,
        "--roles", "source", "--listen", "tcp://127.0.0.1:" + std::to_string(free_port()),
        "--lease-ttl-seconds", std::to_string(kLeaseTtlSeconds)};
    for (int k = 0; k < 2; ++k) {
      const StreamWriter& w = *writers[static_cast<size_t>(2 * s + k)];
      args.insert(args.end(), {"--source", std::string(kApp) + "/" + w.topic + "=" + w.glob()});
    }
    sources.push_back(std::make_unique<Agent>(id, true, args, root + "/" + id + ".log"));
  }
  for (int c = 0; c < kCollectors; ++c) {
    const std::string id = "col-" + std::to_string(c);
    sink_dirs.push_back(root + "/sink-" + std::to_string(c));
    std::vector<std::string> args = {
        "--endpoints", cluster.endpoints_text(), "--id", id, "--ip", "127.0.0.1", "--host", id,
        "--roles", "collector", "--sink-dir", sink_dirs.back(),
        "--lease-ttl-seconds", std::to_string(kLeaseTtlSeconds),
        "--checkpoint-interval-ms", std::to_string(kCheckpointIntervalMs),
        "--fetch-max-bytes", std::to_string(kFetchMaxBytes)};
    collectors.push_back(std::make_unique<Agent>(id, false, args, root + "/" + id + ".log"));
  }
  for (auto& a : sources) a->start();
  for (auto& a : collectors) a->start();
  timeline.add("agents up: " + std::to_string(kSources) + " sources (8 streams), " +
               std::to_string(kCollectors) + " collectors; agent files in " + root);

  // The writers: one thread per stream, paced, bounded in time and count.
  std::atomic<bool> stop_writing{false};
  const auto write_limit = Clock::now() + kWarmup + kCooldown + std::chrono::seconds(30 * rounds);
  const uint64_t max_lines = static_cast<uint64_t>(kLinesPerSecond) * (35 * rounds + 10);
  std::atomic<int> writer_failures{0};
  std::vector<std::thread> threads;
  const auto write_start = Clock::now();
  for (auto& w : writers) {
    threads.emplace_back([&, w = w.get()] {
      try {
        auto next = Clock::now();
        while (!stop_writing.load() && Clock::now() < write_limit && w->next_seq.load() < max_lines) {
          w->write_one();
          next += std::chrono::microseconds(1'000'000 / kLinesPerSecond);
          std::this_thread::sleep_until(std::max(next, Clock::now() - kWriteTick));
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "torture: writer %s failed: %s\n", w->name().c_str(), e.what());
        writer_failures.fetch_add(1);
      }
    });
  }
  struct JoinWriters {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinWriters() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_writers{stop_writing, threads};

  const auto checkpoint_lines = [&](const StreamWriter& w) -> std::optional<int64_t> {
    auto cp = collection::load_checkpoint(*client, records::TaskName{kApp, w.topic, w.ip});
    if (!cp.ok() || !*cp) return std::nullopt;
    return (**cp).lines;
  };
  const auto wait_counted = [&](const StreamWriter& w, uint64_t lines, std::chrono::milliseconds timeout) {
    return wait_until([&] {
      auto n = checkpoint_lines(w);
      return n && *n >= static_cast<int64_t>(lines);
    }, timeout, 50ms);
  };
  const auto key_exists = [&](const std::string& key) -> std::optional<bool> {
    auto r = client->get(key);
    if (!r.ok()) return std::nullopt;
    return !r->kvs.empty();
  };
  const auto prefix_empty = [&](const std::string& prefix) -> std::optional<bool> {
    auto r = client->get_prefix(prefix);
    if (!r.ok()) return std::nullopt;
    return r->kvs.empty();
  };

  // The collector holding the most tasks now (ties: the first from a random
  // start), so that a fault has something to break.
  const auto busiest_collector = [&]() -> Agent& {
    const size_t start = rng() % collectors.size();
    size_t best = start;
    size_t best_tasks = 0;
    for (size_t k = 0; k < collectors.size(); ++k) {
      const size_t i = (start + k) % collectors.size();
      auto r = client->get_prefix(records::assign_prefix(collectors[i]->id()));
      const size_t n = r.ok() ? r->kvs.size() : 0;
      if (n > best_tasks) {
        best = i;
        best_tasks = n;
      }
    }
    return *collectors[best];
  };
  const auto tasks_of = [&](const Agent& a) {
    auto r = client->get_prefix(records::assign_prefix(a.id()));
    return r.ok() ? std::to_string(r->kvs.size()) : std::string("?");
  };

  // The nemesis, on this thread (children die with the thread that forked them).
  int faults = 0;
  int source_kills = 0;
  std::map<std::string, int> step_counts;
  // Between steps: how far each stream's checkpoint is behind its writer
  // (in lines), sampled every 100 ms; the largest, for the report (it is
  // what a crash at that moment would re-deliver, plus the lag of reading).
  std::map<std::string, std::pair<uint64_t, double>> max_lag;  // lines, when
  const auto sample_lag_for = [&](std::chrono::milliseconds how_long) {
    const auto until = Clock::now() + how_long;
    while (Clock::now() < until) {
      for (auto& w : writers) {
        const uint64_t written_now = w->next_seq.load();
        auto n = checkpoint_lines(*w);
        if (!n) continue;
        const uint64_t lag = written_now > static_cast<uint64_t>(*n) ? written_now - static_cast<uint64_t>(*n) : 0;
        auto& m = max_lag[w->name()];
        if (lag > m.first) m = {lag, timeline.seconds()};
      }
      std::this_thread::sleep_for(100ms);
    }
  };
  sample_lag_for(kWarmup);
  for (uint64_t round = 0; round < rounds; ++round) {
    std::vector<Step> steps = {Step::kCollectorKill, Step::kSourceKill, Step::kLeaderKill, Step::kCollectorStop};
    if (round == 0) steps.push_back(Step::kCopyTruncate);
    std::shuffle(steps.begin(), steps.end(), rng);
    for (Step step : steps) {
      ++step_counts[step_name(step)];
      switch (step) {
        case Step::kCollectorKill: {
          Agent& a = busiest_collector();
          const std::string held = tasks_of(a);
          a.kill9();
          ++faults;
          timeline.add("kill -9 " + a.id() + " (" + held + " tasks)");
          a.start();
          timeline.add(a.id() + " restarted");
          break;
        }
        case Step::kSourceKill: {
          const int s = static_cast<int>(rng() % sources.size());
          Agent& a = *sources[static_cast<size_t>(s)];
          StreamWriter& rn = rn_of(s);
          rn.hold_rotation = true;
          const bool fair = wait_until([&] {
            if (rn.reopen_pending.load()) return false;
            auto n = checkpoint_lines(rn);
            return n && *n >= static_cast<int64_t>(rn.rotated_lines.load());
          }, kStepWait, 50ms);
          if (!fair) WARN("source kill: " << rn.name() << " did not count its renamed files' lines in time");
          a.kill9();
          ++faults;
          timeline.add("kill -9 " + a.id() + (fair ? "" : " (its rn stream had unread renamed lines)"));
          if (++source_kills % 2 == 0) {
            // Every second source kill: down past its lease, so that its
            // stream keys go and their tasks are dropped, then re-created.
            const bool gone = wait_until([&] {
              return key_exists(records::stream_key(records::TaskName{kApp, "rn", rn.ip})) == false;
            }, kStepWait, 50ms);
            timeline.add(a.id() + (gone ? " streams expired" : " streams NOT expired in time"));
            CHECK(gone);
          }
          a.start();
          rn.hold_rotation = false;
          timeline.add(a.id() + " restarted");
          break;
        }
        case Step::kLeaderKill: {
          auto leader = cluster.wait_for_leader();
          REQUIRE(leader);
          const uint64_t old_id = cluster.member_id(*leader);
          cluster.signal_member(*leader, SIGKILL);
          ++faults;
          timeline.add("kill -9 corrald leader " + cluster.member(*leader).name);
          REQUIRE(cluster.wait_for_leader(kLeaderTimeoutMs, old_id));
          timeline.add("new leader elected");
          cluster.start_member(*leader);
          timeline.add(cluster.member(*leader).name + " restarted");
          break;
        }
        case Step::kCollectorStop: {
          Agent& a = busiest_collector();
          const std::string held = tasks_of(a);
          a.pause();
          ++faults;
          timeline.add("SIGSTOP " + a.id() + " (" + held + " tasks)");
          const bool expired = wait_until([&] { return key_exists(records::agent_key(a.id())) == false; },
                                          kStepWait, 50ms);
          const bool moved = wait_until([&] { return prefix_empty(records::assign_prefix(a.id())) == true; },
                                        kStepWait, 50ms);
          timeline.add(a.id() + (expired ? " lease expired" : " lease NOT expired in time") +
                       (moved ? ", its tasks moved" : ", its tasks NOT moved in time"));
          CHECK(expired);
          CHECK(moved);
          a.resume();
          timeline.add("SIGCONT " + a.id());
          const bool back = wait_until([&] { return key_exists(records::agent_key(a.id())) == true; },
                                       kStepWait, 50ms);
          timeline.add(a.id() + (back ? " registered again" : " NOT registered again in time"));
          CHECK(back);
          break;
        }
        case Step::kCopyTruncate: {
          StreamWriter& w = rn_of(static_cast<int>(rng() % kSources));
          std::unique_lock lock(w.mu);  // the writer pauses
          if (w.reopen_pending.load()) w.reopen_locked();
          const uint64_t written = w.next_seq.load();
          const bool counted = wait_counted(w, written, kStepWait);
          if (counted) {
            w.copytruncate_locked();
            timeline.add("copytruncate " + w.name() + " at " + std::to_string(written) + " lines");
          } else {
            WARN("copytruncate of " << w.name() << " skipped: its checkpoint did not count its " << written
                                    << " lines in time");
            timeline.add("copytruncate " + w.name() + " SKIPPED (not caught up)");
          }
          break;
        }
      }
      sample_lag_for(1000ms + std::chrono::milliseconds(rng() % 1000));
    }
  }
  sample_lag_for(kCooldown);
  stop_writing = true;
  for (auto& t : threads) t.join();
  const double write_seconds = std::chrono::duration<double>(Clock::now() - write_start).count();
  REQUIRE(writer_failures.load() == 0);
  std::map<std::string, uint64_t> written;
  uint64_t total_written = 0;
  int renames = 0, copytruncates = 0;
  uint64_t late_lines = 0;
  for (auto& w : writers) {
    late_lines += w->late_after_rename.load();
    written[w->name()] = w->next_seq.load();
    total_written += w->next_seq.load();
    renames += w->renames.load();
    copytruncates += w->copytruncates.load();
  }
  timeline.add("writers stopped: " + std::to_string(total_written) + " lines, " + std::to_string(renames) +
               " rename rotations (" + std::to_string(late_lines) +
               " lines written to renamed files before the reopen), " + std::to_string(copytruncates) +
               " copytruncates");

  // Drain: every checkpoint counts every line written.
  std::map<std::string, int64_t> final_lines;
  const bool drained = wait_until([&] {
    for (auto& w : writers) {
      auto n = checkpoint_lines(*w);
      if (!n) return false;
      final_lines[w->name()] = *n;
    }
    for (auto& w : writers) {
      if (final_lines[w->name()] < static_cast<int64_t>(written[w->name()])) return false;
    }
    return true;
  }, kDrainWait, 200ms);
  timeline.add(drained ? "every checkpoint counts every line" : "NOT drained in time");
  // Every agent, however often killed or stopped, is registered at the end
  // (a restarted agent's record must survive its old lease's expiry).
  std::vector<std::string> unregistered;
  for (auto* group : {&sources, &collectors}) {
    for (auto& a : *group) {
      if (key_exists(records::agent_key(a->id())) != true) unregistered.push_back(a->id());
    }
  }
  for (const auto& id : unregistered) timeline.add("agent " + id + " NOT registered at the end");

  for (auto& a : collectors) a->kill9();
  for (auto& a : sources) a->kill9();
  size_t fenced_lines = 0, lost_notes = 0, moved_lines = 0;
  for (auto& a : collectors) {
    const std::string log = read_file(a->log_path());
    fenced_lines += count_of(log, "fenced: the task has moved on") + count_of(log, " already moved on");
    moved_lines += count_of(log, "stopped: moved away");
    lost_notes += count_of(log, "no longer has file");
  }
  if (do_sabotage) sabotage(sink_dirs, timeline);

  auto tally = tally_sinks(seed, sink_dirs, kApp, written);
  StreamTally total;
  std::printf("torture: %-14s %9s %9s %6s %6s %7s %7s %6s %6s %6s %12s\n", "stream", "written", "delivered",
              "lost", "dup", "corrupt", "rewinds", "skips", "files", "ckpt", "dup bytes");
  for (auto& [name, t] : tally) {
    std::printf("torture: %-14s %9llu %9llu %6llu %6llu %7llu %7llu %6llu %6llu %6lld %12llu\n", name.c_str(),
                static_cast<unsigned long long>(t.written), static_cast<unsigned long long>(t.delivered),
                static_cast<unsigned long long>(t.lost), static_cast<unsigned long long>(t.duplicated),
                static_cast<unsigned long long>(t.corrupt), static_cast<unsigned long long>(t.rewinds),
                static_cast<unsigned long long>(t.skips), static_cast<unsigned long long>(t.files),
                static_cast<long long>(final_lines.count(name) ? final_lines[name] : -1),
                static_cast<unsigned long long>(t.duplicated_bytes));
    std::printf("torture:   largest checkpoint lag seen between steps: %llu lines (at %.2fs)\n",
                static_cast<unsigned long long>(max_lag[name].first), max_lag[name].second);
    for (const auto& note : t.rewind_notes) std::printf("torture:   rewind %s\n", note.c_str());
    total.written += t.written;
    total.delivered += t.delivered;
    total.lost += t.lost;
    total.duplicated += t.duplicated;
    total.corrupt += t.corrupt;
    total.rewinds += t.rewinds;
    total.skips += t.skips;
    total.files += t.files;
    total.duplicated_bytes += t.duplicated_bytes;
  }
  char summary[512];
  std::snprintf(summary, sizeof summary,
                "collection torture summary [seed %llu, %llu rounds, %d faults, %.1f s]: written %llu, delivered "
                "%llu, lost %llu, duplicated %llu, corrupt %llu, rewinds %llu, skips %llu; %zu fenced, %zu moved "
                "away, %zu source-lost notes in collector logs",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(rounds), faults,
                timeline.seconds(), static_cast<unsigned long long>(total.written),
                static_cast<unsigned long long>(total.delivered), static_cast<unsigned long long>(total.lost),
                static_cast<unsigned long long>(total.duplicated), static_cast<unsigned long long>(total.corrupt),
                static_cast<unsigned long long>(total.rewinds), static_cast<unsigned long long>(total.skips),
                fenced_lines, moved_lines, lost_notes);
  std::printf("torture: %s\n", summary);
  std::fflush(stdout);

  INFO("seed " << seed << " (replay: CORRAL_TORTURE_SEED=" << seed << " CORRAL_TORTURE_ROUNDS=" << rounds << ")");
  INFO("timeline:\n" << timeline.text());
  INFO(summary);
  CHECK(drained);
  CHECK(unregistered.empty());
  for (auto& [name, t] : tally) {
    INFO("stream " << name);
    for (const auto& p : t.problems) INFO(p);
    CHECK(t.written > 0);
    CHECK(t.lost == 0);
    CHECK(t.corrupt == 0);
    CHECK(t.rewinds <= static_cast<uint64_t>(2 * faults + 2));
    uint64_t stream_bytes = 0;
    for (auto& w : writers) {
      if (w->name() == name) stream_bytes = w->bytes_written.load();
    }
    const double bytes_per_second = static_cast<double>(stream_bytes) / write_seconds;
    const double window = kCheckpointIntervalMs / 1000.0 + kLeaseTtlSeconds + 5.0;
    const auto dup_bound =
        static_cast<uint64_t>(std::max(1, faults) * (bytes_per_second * window + 2.0 * kFetchMaxBytes));
    INFO("duplicated bytes " << t.duplicated_bytes << ", bound " << dup_bound);
    CHECK(t.duplicated_bytes <= dup_bound);
    if (final_lines.count(name)) CHECK(final_lines[name] == static_cast<int64_t>(t.written));
  }
  CHECK(total.corrupt == 0);
  CHECK(total.lost == 0);

  if (!current_test_failed() && std::uncaught_exceptions() == 0 && !keep) {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  } else {
    std::fprintf(stderr, "torture: agents' files, logs and sinks kept in %s\n", root.c_str());
  }
}
