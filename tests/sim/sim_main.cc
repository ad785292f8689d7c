// corral-sim: runs the deterministic cluster simulation over a range of
// seeds and prints one summary line; on a violation it prints the seed, the
// property and the command that replays it, and exits 1 (2 on bad usage).
//
//   corral-sim --seeds N [--start S] [--nodes 3|5] [--ticks T] [--seed X]
//              [--trace] [--trace-file F] [--stop-at-first]
//              [--break commit-without-quorum|vote-ignores-log|stale-reads|skip-sync|resend-puts]
//              [--no-duplicate-check] [--async-writes] [--lease-promise TICKS]
//   SIM_SEED=X corral-sim [--nodes 3|5]   replays seed X with a readable trace
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "tests/sim/cluster.h"

namespace {

using corral::sim::BreakMode;

constexpr uint64_t kMaxTicks = 10'000'000;
// Below the simulated election timeout (10 ticks).
constexpr uint64_t kMaxLeasePromiseTicks = 9;
constexpr uint64_t kMaxSeeds = 100'000'000;

struct Args {
  uint64_t seeds = 1;
  uint64_t start = 1;
  std::optional<uint64_t> one_seed;
  int nodes = 3;
  uint64_t ticks = 1000;
  bool trace = false;
  std::string trace_file;
  bool stop_at_first = false;
  BreakMode break_mode = BreakMode::kNone;
  std::string break_name;
  bool check_duplicate_apply = true;
  bool async_writes = false;
  int lease_promise_ticks = 0;  // raft's read-lease promise (--read-lease)
  int lease_promise_nodes = 0;  // only nodes 1..N promise (0: all)
  int clock_drift_permille = 0;  // SimOptions::clock_drift_permille
  bool lease_edge = false;       // SimOptions::lease_edge_faults
  bool lease_reads = false;     // leaders serve gets from their read lease
};

void usage() {
  std::fprintf(stderr,
               "usage: corral-sim --seeds N [--start S] [--nodes 3|5] [--ticks T] [--seed X]\n"
               "                  [--trace] [--trace-file F] [--stop-at-first]\n"
               "                  [--break commit-without-quorum|vote-ignores-log|stale-reads|skip-sync|resend-puts]\n"
               "                  [--no-duplicate-check] [--async-writes] [--lease-promise TICKS]\n"
               "                  [--lease-reads] [--lease-nodes N]   (with --lease-promise)\n"
               "                  [--clock-drift PERMILLE]            (each node's clock rate within 1000 +- PERMILLE)\n"
               "                  [--lease-edge]                      (leaders cut off with notice, with --lease-reads)\n"
               "       SIM_SEED=X corral-sim [--nodes 3|5]   (replay one seed with a trace)\n");
}

std::optional<uint64_t> parse_u64(const char* s, uint64_t max) {
  if (s == nullptr || *s == '\0') return std::nullopt;
  uint64_t v = 0;
  for (const char* p = s; *p; ++p) {
    if (*p < '0' || *p > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(*p - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<Args> parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    auto number = [&](uint64_t max) -> std::optional<uint64_t> {
      auto v = parse_u64(value, max);
      if (!v) std::fprintf(stderr, "corral-sim: %s needs a number up to %llu\n", flag.c_str(),
                           static_cast<unsigned long long>(max));
      ++i;
      return v;
    };
    if (flag == "--seeds") {
      auto v = number(kMaxSeeds);
      if (!v) return std::nullopt;
      a.seeds = *v;
    } else if (flag == "--start") {
      auto v = number(UINT64_MAX);
      if (!v) return std::nullopt;
      a.start = *v;
    } else if (flag == "--seed") {
      auto v = number(UINT64_MAX);
      if (!v) return std::nullopt;
      a.one_seed = *v;
    } else if (flag == "--nodes") {
      auto v = number(5);
      if (!v || (*v != 3 && *v != 5)) {
        std::fprintf(stderr, "corral-sim: --nodes must be 3 or 5\n");
        return std::nullopt;
      }
      a.nodes = static_cast<int>(*v);
    } else if (flag == "--ticks") {
      auto v = number(kMaxTicks);
      if (!v) return std::nullopt;
      a.ticks = *v;
    } else if (flag == "--trace") {
      a.trace = true;
    } else if (flag == "--trace-file") {
      if (!value) return std::nullopt;
      a.trace_file = value;
      ++i;
    } else if (flag == "--async-writes") {
      a.async_writes = true;
    } else if (flag == "--lease-promise") {
      auto v = number(kMaxLeasePromiseTicks);
      if (!v) return std::nullopt;
      a.lease_promise_ticks = static_cast<int>(*v);
    } else if (flag == "--lease-reads") {
      a.lease_reads = true;
    } else if (flag == "--lease-nodes") {
      auto v = number(5);
      if (!v) return std::nullopt;
      a.lease_promise_nodes = static_cast<int>(*v);
    } else if (flag == "--lease-edge") {
      a.lease_edge = true;
    } else if (flag == "--clock-drift") {
      auto v = number(900);
      if (!v) return std::nullopt;
      a.clock_drift_permille = static_cast<int>(*v);
    } else if (flag == "--no-duplicate-check") {
      a.check_duplicate_apply = false;
    } else if (flag == "--stop-at-first") {
      a.stop_at_first = true;
    } else if (flag == "--break") {
      const std::string mode = value ? value : "";
      ++i;
      if (mode == "commit-without-quorum") a.break_mode = BreakMode::kCommitWithoutQuorum;
      else if (mode == "vote-ignores-log") a.break_mode = BreakMode::kVoteIgnoresLog;
      else if (mode == "stale-reads") a.break_mode = BreakMode::kStaleReads;
      else if (mode == "skip-sync") a.break_mode = BreakMode::kSkipSync;
      else if (mode == "resend-puts") a.break_mode = BreakMode::kResendPuts;
      else if (mode == "lease-ignores-clock") a.break_mode = BreakMode::kLeaseIgnoresClock;
      else {
        std::fprintf(stderr, "corral-sim: unknown --break mode '%s'\n", mode.c_str());
        return std::nullopt;
      }
      a.break_name = mode;
    } else {
      std::fprintf(stderr, "corral-sim: unknown flag '%s'\n", flag.c_str());
      return std::nullopt;
    }
  }
  if (const char* env = std::getenv("SIM_SEED")) {
    auto v = parse_u64(env, UINT64_MAX);
    if (!v) {
      std::fprintf(stderr, "corral-sim: SIM_SEED must be a number\n");
      return std::nullopt;
    }
    a.one_seed = *v;
    a.trace = true;
  }
  if (a.one_seed) {
    a.start = *a.one_seed;
    a.seeds = 1;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Args> args = parse(argc, argv);
  if (!args) {
    usage();
    return 2;
  }
  std::ofstream trace_file;
  if (!args->trace_file.empty()) {
    trace_file.open(args->trace_file, std::ios::binary | std::ios::trunc);
    if (!trace_file) {
      std::fprintf(stderr, "corral-sim: cannot write %s\n", args->trace_file.c_str());
      return 2;
    }
  }
  corral::sim::SimStats total;
  uint64_t violations = 0, run = 0;
  uint64_t combined_hash = 0xcbf29ce484222325ULL;
  const auto started = std::chrono::steady_clock::now();
  for (uint64_t k = 0; k < args->seeds; ++k) {
    corral::sim::SimOptions opt;
    opt.seed = args->start + k;
    opt.nodes = args->nodes;
    opt.fault_ticks = args->ticks;
    opt.keep_trace = args->trace || trace_file.is_open();
    opt.break_mode = args->break_mode;
    opt.check_duplicate_apply = args->check_duplicate_apply;
    opt.async_leader_writes = args->async_writes;
    opt.lease_promise_ticks = args->lease_promise_ticks;
    opt.lease_promise_nodes = args->lease_promise_nodes;
    opt.lease_reads = args->lease_reads;
    opt.clock_drift_permille = args->clock_drift_permille;
    opt.lease_edge_faults = args->lease_edge;
    corral::sim::SimResult r = corral::sim::run_simulation(opt);
    ++run;
    total.add(r.stats);
    combined_hash = (combined_hash ^ r.trace_hash) * 0x100000001b3ULL;
    if (args->trace) std::fwrite(r.trace.data(), 1, r.trace.size(), stdout);
    if (trace_file.is_open()) trace_file << r.trace;
    if (!r.ok) {
      ++violations;
      std::string brk = args->break_name.empty() ? "" : " --break " + args->break_name;
      if (!args->check_duplicate_apply) brk += " --no-duplicate-check";
      if (args->async_writes) brk += " --async-writes";
      if (args->lease_promise_ticks > 0) brk += " --lease-promise " + std::to_string(args->lease_promise_ticks);
      if (args->lease_promise_nodes > 0) brk += " --lease-nodes " + std::to_string(args->lease_promise_nodes);
      if (args->lease_reads) brk += " --lease-reads";
      if (args->clock_drift_permille > 0) brk += " --clock-drift " + std::to_string(args->clock_drift_permille);
      if (args->lease_edge) brk += " --lease-edge";
      std::printf("VIOLATION seed=%llu nodes=%d tick=%llu property=\"%s\": %s\n"
                  "  replay: SIM_SEED=%llu corral-sim --nodes %d --ticks %llu%s\n",
                  static_cast<unsigned long long>(opt.seed), opt.nodes,
                  static_cast<unsigned long long>(r.tick), r.property.c_str(), r.detail.c_str(),
                  static_cast<unsigned long long>(opt.seed), opt.nodes,
                  static_cast<unsigned long long>(opt.fault_ticks), brk.c_str());
      if (args->stop_at_first) break;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double n = run ? static_cast<double>(run) : 1.0;
  std::printf(
      "corral-sim: nodes=%d seeds=%llu violations=%llu ops_checked=%llu (%.1f/seed, %.1f acked) "
      "commits=%llu elections=%llu (%.1f/seed) leader_changes=%llu crashes=%llu (%.1f/seed, %llu in "
      "ready) partitions=%llu snapshots_sent=%llu snapshots_installed=%llu (%.1f/seed) "
      "membership_changes=%llu (%.1f/seed) transfers=%llu reads_timed_out=%llu lease_reads=%llu seeds/s=%.2f "
      "trace_hash=%016llx\n",
      args->nodes, static_cast<unsigned long long>(run), static_cast<unsigned long long>(violations),
      static_cast<unsigned long long>(total.ops_checked), total.ops_checked / n,
      total.ops_acknowledged / n, static_cast<unsigned long long>(total.commits),
      static_cast<unsigned long long>(total.elections), total.elections / n,
      static_cast<unsigned long long>(total.leader_changes),
      static_cast<unsigned long long>(total.crashes), total.crashes / n,
      static_cast<unsigned long long>(total.crashes_in_ready),
      static_cast<unsigned long long>(total.partitions),
      static_cast<unsigned long long>(total.snapshots_sent),
      static_cast<unsigned long long>(total.snapshots_installed), total.snapshots_installed / n,
      static_cast<unsigned long long>(total.membership_changes), total.membership_changes / n,
      static_cast<unsigned long long>(total.transfers),
      static_cast<unsigned long long>(total.reads_timed_out),
      static_cast<unsigned long long>(total.lease_reads), secs > 0 ? run / secs : 0.0,
      static_cast<unsigned long long>(combined_hash));
  return violations == 0 ? 0 : 1;
}
