// corral-bench: the workloads of the etcd-bench anchor (its main.go) run
// against corrald through the corral client, printing the same JSON line
// (same field names) so that the two can be compared in one run.
//
// Flags are etcd-bench's, by the same names; Go's single-dash spelling
// (-clients 10) is accepted as well as --clients 10.
//
// Workloads (as in main.go):
//   put    `clients` workers, each with one request in flight, spread over
//          `conns` connections; key "/bench/" + varint(random) padded to
//          key-size bytes (drawn from --key-space keys when set), value
//          val-size bytes of 'v'.
//   get    one key "/bench/read" (val-size bytes) read by every worker,
//          linearizable unless --serializable. --seed-apart: the key is
//          written through a connection of its own, so that the readers'
//          connections stay on the first endpoint (a follower's endpoint
//          first: its linearizable reads are forwarded to the leader);
//          otherwise the first reader follows the write to the leader.
//   watch  `watchers` watches on prefix "/watch/" over `conns` connections;
//          `events` puts one after another, each timed until every watcher
//          has it. extra: deliveries, deliveries_per_sec.
//   lease  `leases` registrations (grant TTL, put "/agents/C-J" with the
//          lease, start keepalives), one connection registering
//          sequentially per conn; kept alive `duration` more, then the
//          surviving keys counted. extra: keys_alive_after.
//          --lease-register atomic (default): grant and put are one request
//          (LeaseGrantRequest.puts), as a corral agent registers;
//          serial: a grant, then a put, as etcd-bench does (etcd has no
//          grant-with-keys), for a like-for-like comparison.
//          --lease-inflight N (atomic only; default 1, as etcd-bench):
//          registrations in flight per connection (many agents sharing a
//          connection); keep-alives go out batched (LeaseKeeper).
//          --lease-batch N (atomic only; default 1): N grants (each with
//          its key) per LeaseGrantBatchRequest, one raft entry; with it
//          --lease-inflight counts batches in flight per connection, and a
//          lease's latency is its batch's round trip.
//
// --hostile-conns N (put, get): N connections per endpoint send large reads
// and never read the replies while the workload runs (hostile_readers.h);
// extra: what they sent.
#include <charconv>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "bench/assign_workload.h"
#include "bench/hostile_readers.h"
#include "client/client.h"
#include "client/curve_options.h"
#include "client/wire_flag.h"
#include "client/duration.h"
#include "client/lease_keeper.h"

using namespace corral::client;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;
// Requests of a bench run get this long before they count as errors.
constexpr int64_t kBenchRequestTimeoutMs = 30'000;
// Watch registration: how long to wait for every watch to be confirmed.
constexpr int64_t kWatchSetupTimeoutMs = 120'000;
// Watch: how long one event may take to reach every watcher.
constexpr int64_t kWatchEventTimeoutMs = 60'000;
// The availability probe's period (the longest stretch with no success).
constexpr int64_t kGapProbeMs = 1;
// Requests in flight per connection never exceed the workers on it; this
// bounds the client's own queue for safety.
constexpr size_t kMaxInFlightPerConn = 100'000;

std::string fmt_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

double pct(const std::vector<double>& sorted_ms, double p) {
  if (sorted_ms.empty()) return 0;
  const size_t i = static_cast<size_t>(static_cast<double>(sorted_ms.size() - 1) * p);
  // Go's pct truncates to whole microseconds.
  return static_cast<double>(static_cast<int64_t>(sorted_ms[i] * 1000.0)) / 1000.0;
}

std::atomic<int64_t> g_last_ok_ns{0};
std::atomic<int64_t> g_max_gap_ns{0};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

void finish(const std::string& name, std::vector<double> lat_ms, int64_t errors, double secs,
            const std::string& extra) {
  std::sort(lat_ms.begin(), lat_ms.end());
  std::string out = "{\"workload\":\"" + json_escape(name) + "\",\"ops\":" +
                    std::to_string(lat_ms.size()) + ",\"errors\":" + std::to_string(errors) +
                    ",\"seconds\":" + fmt_double(secs) +
                    ",\"ops_per_sec\":" + fmt_double(static_cast<double>(lat_ms.size()) / secs) +
                    ",\"p50_ms\":" + fmt_double(pct(lat_ms, 0.5)) +
                    ",\"p99_ms\":" + fmt_double(pct(lat_ms, 0.99)) +
                    ",\"p999_ms\":" + fmt_double(pct(lat_ms, 0.999)) +
                    ",\"max_gap_ms\":" + fmt_double(static_cast<double>(g_max_gap_ns.load()) / 1e6);
  if (!extra.empty()) out += ",\"extra\":\"" + json_escape(extra) + "\"";
  out += "}";
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
}

// Go's binary.PutVarint (zigzag, then base-128) into the front of `buf`.
void put_varint(std::string& buf, int64_t x) {
  uint64_t ux = static_cast<uint64_t>(x) << 1;
  if (x < 0) ux = ~ux;
  size_t i = 0;
  while (ux >= 0x80 && i < buf.size()) {
    buf[i++] = static_cast<char>(static_cast<uint8_t>(ux) | 0x80);
    ux >>= 7;
  }
  if (i < buf.size()) buf[i] = static_cast<char>(ux);
}

struct Flags {
  std::string endpoints = "127.0.0.1:2379";
  std::string workload = "put";
  int conns = 100;
  int clients = 1000;
  int key_size = 256;
  int64_t key_space = 0;  // put: 0 = every key new; N = keys drawn from N (a bounded key space, for soaks)
  int val_size = 1024;
  std::string duration = "10s";
  bool serializable = false;
  bool seed_apart = false;
  int watchers = 10000;
  int events = 100;
  int leases = 10000;
  int64_t ttl = 10;
  std::string lease_register = "atomic";
  int lease_inflight = 1;
  int lease_batch = 1;
  std::string curve_key_file, curve_server_key;  // client/curve_options.h
  std::string client_wire = "auto";              // client/wire_flag.h
  corral::bench::AssignFlags assign;
  corral::bench::HostileFlags hostile;
};

std::vector<std::unique_ptr<Client>> connect_all(const Flags& f,
                                                 const std::shared_ptr<zmq::context_t>& ctx) {
  std::vector<std::unique_ptr<Client>> cs;
  for (int i = 0; i < f.conns; ++i) {
    Options o;
    o.endpoints = CLI::detail::split(f.endpoints, ',');
    o.request_timeout = std::chrono::milliseconds(kBenchRequestTimeoutMs);
    o.max_in_flight = kMaxInFlightPerConn;
    o.context = ctx;
    if (std::string bad = corral::client::apply_curve_flags(f.curve_key_file, f.curve_server_key, o); !bad.empty()) {
      std::fprintf(stderr, "%s\n", bad.c_str());
      std::exit(kExitFailed);
    }
    if (std::string bad = corral::client::apply_wire_flag(f.client_wire, o); !bad.empty()) {
      std::fprintf(stderr, "%s\n", bad.c_str());
      std::exit(kExitFailed);
    }
    auto c = Client::connect(o);
    if (!c.ok()) {
      std::fprintf(stderr, "connect: %s\n", to_string(c.error()).c_str());
      std::exit(kExitFailed);
    }
    cs.push_back(std::move(c).value());
  }
  return cs;
}

// Runs `workers` chains of one request each over the connections for
// `dur`: every completion records its latency and issues the next request
// from the client's I/O thread. `issue(client, rng, done)` sends one request.
using Done = std::function<void(bool ok)>;
using Issue = std::function<void(Client&, std::mt19937_64&, Done)>;

struct RunResult {
  std::vector<double> lat_ms;
  int64_t errors = 0;
  double secs = 0;
};

RunResult run(std::vector<std::unique_ptr<Client>>& cs, int workers, std::chrono::microseconds dur,
              const Issue& issue) {
  struct Worker {
    Client* client;
    std::mt19937_64 rng;
    std::vector<double> lat_ms;
    int64_t errors = 0;
    Clock::time_point started;
  };
  std::vector<Worker> ws;
  ws.reserve(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    ws.push_back(Worker{cs[static_cast<size_t>(w) % cs.size()].get(),
                        std::mt19937_64(static_cast<uint64_t>(w) + 1), {}, 0, {}});
  }
  const auto start = Clock::now();
  const auto deadline = start + dur;
  g_last_ok_ns = now_ns();
  std::atomic<bool> stop_probe{false};
  std::thread probe([&] {
    while (!stop_probe.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kGapProbeMs));
      const int64_t gap = now_ns() - g_last_ok_ns.load();
      if (gap > g_max_gap_ns.load()) g_max_gap_ns = gap;
    }
  });
  std::mutex mu;
  std::condition_variable cv;
  int running = workers;
  std::function<void(Worker&)> step = [&](Worker& w) {
    if (Clock::now() >= deadline) {
      std::lock_guard lock(mu);
      if (--running == 0) cv.notify_all();
      return;
    }
    w.started = Clock::now();
    issue(*w.client, w.rng, [&w, &step](bool ok) {
      if (ok) {
        w.lat_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - w.started).count());
        g_last_ok_ns = now_ns();
      } else {
        ++w.errors;
      }
      step(w);
    });
  };
  for (auto& w : ws) step(w);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return running == 0; });
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  stop_probe = true;
  probe.join();
  RunResult r;
  r.secs = secs;
  for (auto& w : ws) {
    r.lat_ms.insert(r.lat_ms.end(), w.lat_ms.begin(), w.lat_ms.end());
    r.errors += w.errors;
  }
  return r;
}

int watch_workload(const Flags& f, std::vector<std::unique_ptr<Client>>& cs) {
  const int watchers = f.watchers;
  const int events = f.events;
  std::vector<std::atomic<int>> recv(static_cast<size_t>(events));
  for (auto& r : recv) r = 0;
  std::atomic<int64_t> got{0};
  std::atomic<int> created{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WatchHandle> handles;
  handles.reserve(static_cast<size_t>(watchers));
  for (int w = 0; w < watchers; ++w) {
    WatchOptions o;
    o.key = "/watch/";
    o.range_end = prefix_range_end(o.key);
    handles.push_back(cs[static_cast<size_t>(w) % cs.size()]->watch(o, [&](const WatchUpdate& u) {
      if (u.created) {
        if (created.fetch_add(1) + 1 == watchers) {
          std::lock_guard lock(mu);
          cv.notify_all();
        }
        return;
      }
      if (u.error) {
        std::fprintf(stderr, "watch ended: %s\n", to_string(*u.error).c_str());
        return;
      }
      for (const WatchEvent& e : u.events) {
        int i = -1;
        std::from_chars(e.kv.value.data(), e.kv.value.data() + e.kv.value.size(), i);
        got.fetch_add(1);
        if (i >= 0 && i < events && recv[static_cast<size_t>(i)].fetch_add(1) + 1 == watchers) {
          std::lock_guard lock(mu);
          cv.notify_all();
        }
      }
    }));
  }
  {
    // etcd-bench sleeps 2 s for registration; here every watch confirms.
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::milliseconds(kWatchSetupTimeoutMs),
                     [&] { return created.load() >= watchers; })) {
      std::fprintf(stderr, "only %d of %d watches were created\n", created.load(), watchers);
      return kExitFailed;
    }
  }
  std::vector<double> lat;
  const auto start = Clock::now();
  for (int i = 0; i < events; ++i) {
    const auto t = Clock::now();
    auto r = cs[0]->put("/watch/" + std::to_string(i), std::to_string(i));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", to_string(r.error()).c_str());
      return kExitFailed;
    }
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::milliseconds(kWatchEventTimeoutMs),
                     [&] { return recv[static_cast<size_t>(i)].load() >= watchers; })) {
      std::fprintf(stderr, "event %d reached %d of %d watchers\n", i,
                   recv[static_cast<size_t>(i)].load(), watchers);
      return kExitFailed;
    }
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  handles.clear();
  char extra[128];
  std::snprintf(extra, sizeof(extra), "deliveries=%lld deliveries_per_sec=%.0f",
                static_cast<long long>(got.load()), static_cast<double>(got.load()) / secs);
  finish("watch watchers=" + std::to_string(watchers) + " conns=" + std::to_string(f.conns) +
             " events=" + std::to_string(events) + " (latency = put until every watcher saw it)",
         lat, 0, secs, extra);
  return 0;
}

// Registers leases `first`..`first + count - 1` of connection `ci` with up
// to `inflight` grants (each with its key) in flight; latencies into `local`.
void register_pipelined(Client& c, LeaseKeeper& keeper, int ci, int count, int inflight, int64_t ttl,
                        std::atomic<int64_t>& lost, std::vector<double>& local) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  for (int j = 0; j < count; ++j) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < inflight; });
      ++in_flight;
    }
    LeaseGrantRequest g;
    g.ttl_seconds = ttl;
    g.puts.push_back(LeaseKeyPut{"/agents/" + std::to_string(ci) + "-" + std::to_string(j), "up"});
    const auto t = Clock::now();
    c.call_async(std::move(g), CallOptions{}, [&, t](Result<LeaseGrantResult> r) {
      const bool ok = r.ok() && keeper.add(r->id, r->ttl_seconds).ok();
      std::lock_guard lock(mu);
      if (ok) {
        local.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      } else {
        lost.fetch_add(1);
      }
      --in_flight;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });  // every call ends by its deadline
}

// Registers leases `0`..`count - 1` of connection `ci` in batches of
// `batch` grants (LeaseGrantBatchRequest), up to `inflight` batches in
// flight; each lease's latency is its batch's round trip.
void register_batched(Client& c, LeaseKeeper& keeper, int ci, int count, int batch, int inflight, int64_t ttl,
                      std::atomic<int64_t>& lost, std::vector<double>& local) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  for (int first = 0; first < count; first += batch) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < inflight; });
      ++in_flight;
    }
    LeaseGrantBatchRequest req;
    for (int j = first; j < std::min(count, first + batch); ++j) {
      LeaseGrantRequest g;
      g.ttl_seconds = ttl;
      g.puts.push_back(LeaseKeyPut{"/agents/" + std::to_string(ci) + "-" + std::to_string(j), "up"});
      req.grants.push_back(std::move(g));
    }
    const auto asked = static_cast<int64_t>(req.grants.size());
    const auto t = Clock::now();
    c.call_async(std::move(req), CallOptions{}, [&, t, asked](Result<LeaseGrantBatchResult> r) {
      int64_t failed = r.ok() ? 0 : asked;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
      std::vector<double> done;
      if (r.ok()) {
        if (static_cast<int64_t>(r->outcomes.size()) != asked) {
          std::fprintf(stderr, "batch of %lld answered with %zu outcomes\n", static_cast<long long>(asked),
                       r->outcomes.size());
        }
        for (const auto& o : r->outcomes) {
          if (o.error == ErrorCode::kOk && keeper.add(o.id, o.ttl_seconds).ok()) {
            done.push_back(ms);
          } else {
            ++failed;
          }
        }
        failed += asked - static_cast<int64_t>(r->outcomes.size());
      } else {
        std::fprintf(stderr, "grant batch: %s\n", to_string(r.error()).c_str());
      }
      std::lock_guard lock(mu);
      lost.fetch_add(failed);
      local.insert(local.end(), done.begin(), done.end());
      --in_flight;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });  // every call ends by its deadline
}

int lease_workload(const Flags& f, std::vector<std::unique_ptr<Client>>& cs,
                   std::chrono::microseconds dur) {
  std::vector<std::unique_ptr<LeaseKeeper>> keepers;
  std::atomic<int64_t> lost{0};
  std::atomic<int64_t> expired{0};
  for (auto& c : cs) {
    keepers.push_back(std::make_unique<LeaseKeeper>(
        *c, [&](int64_t, const Error&) { expired.fetch_add(1); }));
  }
  std::mutex mu;
  std::vector<double> lat;
  const bool atomic = f.lease_register == "atomic";
  const int n = static_cast<int>(cs.size());
  const int per = (f.leases + n - 1) / n;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int ci = 0; ci < n; ++ci) {
    threads.emplace_back([&, ci] {
      Client& c = *cs[static_cast<size_t>(ci)];
      std::vector<double> local;
      const bool many = atomic && (f.lease_inflight > 1 || f.lease_batch > 1);
      const int count = std::max(0, std::min(per, f.leases - ci * per));
      if (atomic && f.lease_batch > 1) {
        register_batched(c, *keepers[static_cast<size_t>(ci)], ci, count, f.lease_batch, f.lease_inflight, f.ttl,
                         lost, local);
      } else if (many) {
        register_pipelined(c, *keepers[static_cast<size_t>(ci)], ci, count, f.lease_inflight, f.ttl, lost, local);
      }
      for (int j = 0; j < per && ci * per + j < f.leases && !many; ++j) {
        const auto t = Clock::now();
        std::string key = "/agents/" + std::to_string(ci) + "-" + std::to_string(j);
        Result<LeaseGrantResult> g = atomic ? c.lease_grant_with_keys(f.ttl, {{key, "up"}})
                                            : c.lease_grant(f.ttl);
        if (!g.ok()) {
          lost.fetch_add(1);
          continue;
        }
        if (!atomic && !c.put(std::move(key), "up", g->id).ok()) {
          lost.fetch_add(1);
          continue;
        }
        if (!keepers[static_cast<size_t>(ci)]->add(g->id, g->ttl_seconds).ok()) {
          lost.fetch_add(1);
          continue;
        }
        local.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      }
      std::lock_guard lock(mu);
      lat.insert(lat.end(), local.begin(), local.end());
    });
  }
  for (auto& t : threads) t.join();
  const double granted = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(dur);
  RangeRequest count;
  count.key = "/agents/";
  count.range_end = prefix_range_end(count.key);
  count.count_only = true;
  auto r = cs[0]->call(count);
  keepers.clear();
  const int64_t alive = r.ok() ? r->count : -1;
  std::string extra = "keys_alive_after=" + std::to_string(alive);
  if (expired.load() > 0) extra += " keepalive_losses=" + std::to_string(expired.load());
  finish("lease leases=" + std::to_string(f.leases) + " ttl=" + std::to_string(f.ttl) +
             "s conns=" + std::to_string(f.conns) + " register=" + f.lease_register +
             (f.lease_inflight > 1 ? " inflight=" + std::to_string(f.lease_inflight) : std::string()) +
             (f.lease_batch > 1 ? " batch=" + std::to_string(f.lease_batch) +
                                      " (latency = the lease's batch round trip + keepalive start)"
                                : std::string(" (latency = grant+put+keepalive start)")),
         lat, lost.load(), granted, extra);
  return 0;
}

}  // namespace

// Every flag of corral-bench, with its check and help text (etcd-bench's
// names where it has them).
void add_bench_flags(CLI::App& app, Flags& f) {
  app.add_option("--endpoints", f.endpoints, "comma-separated endpoints")->capture_default_str();
  app.add_option("--curve-key-file", f.curve_key_file, "this client's CURVE key pair file (members with CURVE on)");
  app.add_option("--client-wire", f.client_wire, corral::client::kClientWireFlagHelp)
      ->check(CLI::IsMember({"auto", "tcp", "zmq"}))
      ->capture_default_str();
  app.add_option("--curve-server-key", f.curve_server_key, "the members' CURVE public keys (.pub files or Z85; one or one per endpoint)");
  app.add_option("--streams", f.assign.streams, "assign: streams to register (100 per source)")
      ->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--collectors", f.assign.collectors, "assign: collectors to register")
      ->check(CLI::Range(2, 1'000'000))->capture_default_str();
  app.add_option("--workload", f.workload, "put | get | watch | lease | assign")
      ->check(CLI::IsMember({"put", "get", "watch", "lease", "assign"}))
      ->capture_default_str();
  app.add_option("--conns", f.conns, "connections")->check(CLI::Range(1, 100'000))->capture_default_str();
  app.add_option("--clients", f.clients, "concurrent clients (one request in flight each)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--key-space", f.key_space, "put: draw keys from this many (0: every key new)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 62))->capture_default_str();
  app.add_option("--key-size", f.key_size, "key size in bytes (put)")
      ->check(CLI::Range(8, 1 << 20))
      ->capture_default_str();
  app.add_option("--val-size", f.val_size, "value size in bytes (put)")
      ->check(CLI::Range(0, 64 << 20))
      ->capture_default_str();
  app.add_option("--duration", f.duration,
                 "how long to run (put, get); lease: how long to keep every lease alive after the "
                 "last grant")
      ->capture_default_str();
  app.add_flag("--serializable", f.serializable, "get: serializable instead of linearizable reads");
  app.add_flag("--seed-apart", f.seed_apart,
               "get: write the key through a connection of its own (the readers stay on the first endpoint)");
  app.add_option("--watchers", f.watchers, "watch: number of watchers on one prefix")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--events", f.events, "watch: puts whose delivery to every watcher is timed")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--leases", f.leases, "lease: leases to grant and keep alive")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--lease-register", f.lease_register,
                 "lease: atomic (grant with its key, one request) or serial (grant, then put)")
      ->check(CLI::IsMember({"atomic", "serial"}))
      ->capture_default_str();
  app.add_option("--lease-inflight", f.lease_inflight,
                 "lease: registrations in flight per connection (atomic only; 1 as etcd-bench)")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option("--lease-batch", f.lease_batch,
                 "lease: grants per LeaseGrantBatchRequest (atomic only; 1: one grant per request)")
      ->check(CLI::Range(1, static_cast<int>(corral::client::kMaxGrantBatchGrants)))
      ->capture_default_str();
  app.add_option("--hostile-conns", f.hostile.conns_per_endpoint,
                 "put, get: connections per endpoint that send large reads and never read replies")
      ->check(CLI::Range(0, 1000))->capture_default_str();
  app.add_option("--hostile-value-bytes", f.hostile.value_bytes, "hostile: size of the value they read")
      ->check(CLI::Range(1, 1536 * 1024))->capture_default_str();
  app.add_option("--hostile-burst", f.hostile.burst_reads, "hostile: reads sent at once per connection")
      ->check(CLI::Range(0, 1'000'000))->capture_default_str();
  app.add_option("--hostile-rate", f.hostile.reads_per_sec, "hostile: reads per second per connection afterwards")
      ->check(CLI::Range(0, 1'000'000))->capture_default_str();
  app.add_option("--ttl", f.ttl, "lease: TTL in seconds")->check(CLI::Range(int64_t{1}, int64_t{1} << 31))->capture_default_str();
}

int put_workload(const Flags& f, std::vector<std::unique_ptr<Client>>& cs, std::chrono::microseconds dur,
                 const std::function<std::string()>& extra) {
  const std::string val(static_cast<size_t>(f.val_size), 'v');
  const int ksize = f.key_size;
  RunResult r = run(cs, f.clients, dur, [&](Client& c, std::mt19937_64& rng, Done done) {
    std::string k(static_cast<size_t>(ksize), '\0');
    const uint64_t r = rng() >> 1;
    put_varint(k, static_cast<int64_t>(f.key_space > 0 ? r % static_cast<uint64_t>(f.key_space) : r));
    PutRequest p;
    p.key = "/bench/" + k;
    p.value = val;
    c.call_async(std::move(p), CallOptions{},
                 [done = std::move(done)](Result<PutResult> res) { done(res.ok()); });
  });
  finish("put clients=" + std::to_string(f.clients) + " conns=" + std::to_string(f.conns) +
             " key=" + std::to_string(f.key_size) + " val=" + std::to_string(f.val_size),
         std::move(r.lat_ms), r.errors, r.secs, extra());
  return 0;
}

int get_workload(const Flags& f, std::vector<std::unique_ptr<Client>>& cs, const std::shared_ptr<zmq::context_t>& ctx,
                 std::chrono::microseconds dur, const std::function<std::string()>& extra) {
  std::vector<std::unique_ptr<Client>> seeder;
  if (f.seed_apart) {
    Flags one = f;
    one.conns = 1;
    seeder = connect_all(one, ctx);
  }
  Client& seed_client = f.seed_apart ? *seeder[0] : *cs[0];
  auto seeded = seed_client.put("/bench/read", std::string(static_cast<size_t>(f.val_size), 'v'));
  if (!seeded.ok()) {
    std::fprintf(stderr, "%s\n", to_string(seeded.error()).c_str());
    return kExitFailed;
  }
  const bool serializable = f.serializable;
  RunResult r = run(cs, f.clients, dur, [&](Client& c, std::mt19937_64&, Done done) {
    RangeRequest g;
    g.key = "/bench/read";
    g.serializable = serializable;
    c.call_async(std::move(g), CallOptions{},
                 [done = std::move(done)](Result<RangeResult> res) { done(res.ok()); });
  });
  finish("get clients=" + std::to_string(f.clients) + " conns=" + std::to_string(f.conns) +
             " serializable=" + (serializable ? "true" : "false"),
         std::move(r.lat_ms), r.errors, r.secs, extra());
  return 0;
}

int main(int argc, char** argv) {
  // Go's flag package spells long flags with one dash: accept both.
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].size() > 2 && args[i][0] == '-' && args[i][1] != '-') args[i] = "-" + args[i];
  }
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());

  Flags f;
  CLI::App app{"corral-bench: etcd-bench's workloads against corrald"};
  add_bench_flags(app, f);
  try {
    app.parse(static_cast<int>(argp.size()), argp.data());
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  auto dur = parse_duration(f.duration);
  if (!dur.ok()) {
    std::fprintf(stderr, "--duration: %s\n", dur.error().message.c_str());
    return kExitUsage;
  }

  auto ctx = std::make_shared<zmq::context_t>(1);
  auto cs = connect_all(f, ctx);
  std::unique_ptr<corral::bench::HostileReaders> hostile;
  if (f.hostile.conns_per_endpoint > 0) {
    // The members' wire, as the clients resolve it (client/wire_flag.h).
    f.hostile.tcp = f.client_wire == "tcp" || (f.client_wire == "auto" && f.curve_key_file.empty());
    hostile = corral::bench::HostileReaders::start(f.hostile, CLI::detail::split(f.endpoints, ','), *cs[0], *ctx);
    if (!hostile) return kExitFailed;
  }
  // Read after the run: the hostile readers' figures of the whole run.
  const std::function<std::string()> hostile_extra = [&] { return hostile ? hostile->summary() : std::string(); };

  if (f.workload == "put") return put_workload(f, cs, dur.value(), hostile_extra);
  if (f.workload == "get") return get_workload(f, cs, ctx, dur.value(), hostile_extra);
  if (f.workload == "watch") return watch_workload(f, cs);
  if (f.workload == "assign") return corral::bench::assign_workload(f.assign, cs);
  return lease_workload(f, cs, dur.value());
}
