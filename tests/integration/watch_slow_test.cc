// A watcher that never reads its connection, on a real member, while another
// client writes large values under the watched prefix: the member keeps
// answering other clients, a fast watcher on the same member gets every
// event in order, and (DESIGN.md, Watches) the slow watch is buffered up to a
// bound and then cancelled with an explicit error, so the member's memory
// stays bounded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <future>
#include <mutex>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/raw_connection.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

// A connection that takes almost nothing in: ZeroMQ keeps one message for
// it and the kernel 4 KiB, so the member's side fills up at once.
RawConnectionOptions barely_reading() {
  RawConnectionOptions ro;
  ro.receive_hwm = 1;
  ro.receive_buffer_bytes = 4096;
  return ro;
}

constexpr size_t kValueBytes = 256 * 1024;
constexpr int kWrites = 320;  // 80 MiB of values under the watched prefix
constexpr long kWrittenKib = static_cast<long>(kValueBytes / 1024) * kWrites;
constexpr int kProbeEveryWrites = 40;
constexpr auto kProbeTimeout = 2000ms;
constexpr auto kIdleWindow = 1000ms;
const std::string kPrefix = "/slow/";

// What a fast watcher saw: only revisions and sizes (not the 80 MiB).
struct Seen {
  std::mutex mu;
  std::vector<int64_t> mod_revisions;
  std::vector<size_t> value_sizes;
  std::optional<Error> error;
  bool created = false;
  WatchCallback callback() {
    return [this](const WatchUpdate& u) {
      std::lock_guard lock(mu);
      if (u.error) error = u.error;
      if (u.created) created = true;
      for (const auto& e : u.events) {
        mod_revisions.push_back(e.kv.mod_revision);
        value_sizes.push_back(e.kv.value.size());
      }
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return mod_revisions.size();
  }
};

// What the member sent the connection that never read, once it reads.
struct SlowOutcome {
  size_t events = 0;
  std::optional<Error> cancel;  // a watch cancel with a non-OK code
  size_t messages = 0;
};

// Reads what is queued for the slow connection, a bounded number of
// messages, until the member has nothing more to send within the timeout.
SlowOutcome drain_slow(RawConnection& slow, size_t max_messages) {
  SlowOutcome out;
  slow.socket.set(zmq::sockopt::rcvtimeo, 1000);
  while (out.messages < max_messages) {
    auto m = slow.receive_any();
    if (!m) break;
    ++out.messages;
    if (auto* ev = std::get_if<WatchEventsMessage>(&*m)) out.events += ev->events.size();
    if (auto* ctl = std::get_if<WatchControlMessage>(&*m)) {
      if (ctl->canceled && ctl->cancel_reason.code != ErrorCode::kOk) out.cancel = ctl->cancel_reason;
    }
  }
  return out;
}

// CPU time (user + system, ms) a process has used so far, from /proc.
std::optional<long> cpu_ms(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) end with ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field numbers as in proc(5)
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return (utime + stime) * 1000 / sysconf(_SC_CLK_TCK);
}

struct SlowRun {
  std::vector<int64_t> put_revisions;
  long slow_growth_kib = 0;   // VmRSS after - before, member holding the slow watch
  long quiet_growth_kib = 0;  // the same for a member without watchers
  long idle_cpu_ms = -1;      // member with the slow watch, kIdleWindow after the writes
  std::vector<std::chrono::milliseconds> probe_times;
  SlowOutcome slow;
  size_t fast_events = 0;
  bool fast_in_order = false;
};

// One run: slow and fast watcher on follower `slow_member`, writes through
// the leader, probes of the slow member during the writes.
void run_slow_watcher(Cluster& cluster, SlowRun& run) {
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const size_t slow_member = (*leader + 1) % cluster.size();
  const size_t quiet_member = (*leader + 2) % cluster.size();
  INFO("leader " << cluster.member(*leader).name << ", slow watch on " << cluster.member(slow_member).name);

  zmq::context_t ctx;
  const RawConnectionOptions ro = barely_reading();
  RawConnection slow(ctx, cluster.member(slow_member).client_url(), ro);
  WatchCreateRequest wc;
  wc.key = kPrefix;
  wc.range_end = prefix_range_end(kPrefix);
  slow.send_request(1, RequestBody(wc));
  auto created = slow.receive();
  REQUIRE(created);
  INFO("watch create: " << to_string(created->error));
  REQUIRE_FALSE(created->is_error());
  // From here on the slow connection is never read until the writes end.

  auto fast_client = cluster.client({cluster.member(slow_member).client_url()});
  Seen fast;
  WatchOptions w;
  w.key = kPrefix;
  w.range_end = prefix_range_end(kPrefix);
  WatchHandle fast_handle = fast_client->watch(w, fast.callback());
  REQUIRE(wait_until([&] { std::lock_guard l(fast.mu); return fast.created; }, 5000ms));

  const pid_t slow_pid = cluster.member(slow_member).process.pid();
  const pid_t quiet_pid = cluster.member(quiet_member).process.pid();
  auto slow_before = resident_kib(slow_pid);
  auto quiet_before = resident_kib(quiet_pid);
  REQUIRE(slow_before);
  REQUIRE(quiet_before);

  auto writer = cluster.client();
  auto prober = cluster.client({cluster.member(slow_member).client_url()}, kProbeTimeout);
  const std::string value(kValueBytes, 'v');
  for (int i = 0; i < kWrites; ++i) {
    auto put = writer->put(kPrefix + "k" + std::to_string(i % 16), value);
    INFO("put " << i << ": " << (put.ok() ? std::string("ok") : to_string(put.error())));
    REQUIRE(put.ok());
    run.put_revisions.push_back(put->header.revision);
    if (i % kProbeEveryWrites == kProbeEveryWrites - 1) {
      // The member with the slow watch answers others within a bound.
      auto t0 = std::chrono::steady_clock::now();
      RangeRequest q;
      q.key = kPrefix + "k0";
      q.serializable = true;
      q.keys_only = true;
      auto r = prober->range(q);
      run.probe_times.push_back(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
      INFO("probe after put " << i << ": " << (r.ok() ? std::string("ok") : to_string(r.error())));
      REQUIRE(r.ok());
      REQUIRE(run.probe_times.back() < kProbeTimeout);
    }
  }
  REQUIRE(wait_until([&] { return fast.size() >= static_cast<size_t>(kWrites); }, 15000ms));
  // Settle: the member has applied and sent everything it will send.
  REQUIRE(cluster.wait_applied(slow_member, cluster.status(*leader)->raft_applied_index, 5000ms));
  auto slow_after = resident_kib(slow_pid);
  auto quiet_after = resident_kib(quiet_pid);
  REQUIRE(slow_after);
  REQUIRE(quiet_after);
  run.slow_growth_kib = *slow_after - *slow_before;
  run.quiet_growth_kib = *quiet_after - *quiet_before;
  // With writes over and the slow connection still unread, the member waits
  // for that connection (retries with backoff); it must not spin on it.
  auto cpu_before = cpu_ms(slow_pid);
  std::this_thread::sleep_for(kIdleWindow);  // measuring a window, not waiting for a condition
  auto cpu_after = cpu_ms(slow_pid);
  REQUIRE(cpu_before);
  REQUIRE(cpu_after);
  run.idle_cpu_ms = *cpu_after - *cpu_before;

  {
    std::lock_guard l(fast.mu);
    CHECK_FALSE(fast.error.has_value());
    run.fast_events = fast.mod_revisions.size();
    run.fast_in_order = fast.mod_revisions == run.put_revisions;
    CHECK(std::all_of(fast.value_sizes.begin(), fast.value_sizes.end(),
                      [](size_t n) { return n == kValueBytes; }));
  }
  run.slow = drain_slow(slow, kWrites + 16);
  // The member still serves the connection that was slow, and everyone else.
  slow.socket.set(zmq::sockopt::rcvtimeo, 5000);
  slow.send_request(2, RequestBody(StatusRequest{}));
  std::optional<ResponseMessage> status;
  for (int i = 0; i < kWrites + 16 && !status; ++i) {
    auto m = slow.receive_any();
    if (!m) break;
    if (auto* r = std::get_if<ResponseMessage>(&*m); r && r->id == 2) status = *r;
  }
  REQUIRE(status);
  CHECK_FALSE(status->is_error());
  require_ok(writer->put(kPrefix + "after", "x"), "put after the run");

  long worst_probe = 0;
  for (auto t : run.probe_times) worst_probe = std::max<long>(worst_probe, t.count());
  WARN("slow watcher run: " << kWrites << " puts of " << kValueBytes / 1024 << " KiB; VmRSS growth: member with the slow watch "
       << run.slow_growth_kib << " KiB, member without watchers " << run.quiet_growth_kib
       << " KiB; idle CPU " << run.idle_cpu_ms << " ms in " << kIdleWindow.count() << " ms; worst probe " << worst_probe << " ms; slow connection got " << run.slow.events << " events in "
       << run.slow.messages << " messages, cancel: "
       << (run.slow.cancel ? to_string(*run.slow.cancel) : std::string("none")));
}

}  // namespace

TEST_CASE("a watcher that never reads does not stall the member or its fast watchers",
          "[integration][watch][slow]") {
  Cluster cluster(raw_zmq_cluster());
  cluster.start();
  SlowRun run;
  run_slow_watcher(cluster, run);
  CHECK(run.fast_events == static_cast<size_t>(kWrites));
  CHECK(run.fast_in_order);
  CHECK(run.probe_times.size() == static_cast<size_t>(kWrites / kProbeEveryWrites));
}

// DESIGN.md: "A slow watcher is buffered up to a bound, then cancelled with
// an explicit error: never silently dropped." The hub's bound is 16 MiB per
// stream (watch_hub.h); with 80 MiB written, a member that keeps the bound
// holds far less than the data for the watcher that never reads, and that
// watcher learns of its end from a typed cancel. FINDINGS.md #3 (fixed):
// the member held all of it (ZeroMQ's per-connection queue is bounded in
// messages, not bytes) and never cancelled.
TEST_CASE("a watcher that never reads is cancelled with a typed error and its buffer is bounded",
          "[integration][watch][slow]") {
  Cluster cluster(raw_zmq_cluster());
  cluster.start();
  SlowRun run;
  run_slow_watcher(cluster, run);
  // Beyond what the member without watchers grew by (both stored the same
  // data): at most the hub's bound (16 MiB per stream), the watch bytes a
  // connection may have inside ZeroMQ (4 MiB, server/connection_output.h) and slack for
  // the allocator; measured 7-8 MiB. Before the fix: about 100 MiB.
  constexpr long kBoundKib = (16 + 4 + 8) * 1024;
  CHECK(run.slow_growth_kib - run.quiet_growth_kib < kBoundKib);
  // A member spinning on the paused connection would use the whole window.
  CHECK(run.idle_cpu_ms < kIdleWindow.count() / 4);
  REQUIRE(run.slow.cancel);
  CHECK(run.slow.cancel->code == ErrorCode::kUnavailable);
  CHECK(run.slow.cancel->message.find("slow") != std::string::npos);
  CHECK(run.slow.events < static_cast<size_t>(kWrites));
}

namespace {

// Enough revisions to fill what sits between the member and a connection
// that never reads: ZeroMQ's per-connection queue (ZMQ_SNDHWM, 10000
// messages by default, one message per revision) and the kernel's socket
// buffers (a few MiB at most on loopback).
constexpr int kSmallWrites = 16000;
constexpr size_t kSmallValueBytes = 1024;
constexpr int kWriteWindow = 500;  // puts in flight at once
// A window of 500 puts takes ~0.3 s idle; a leader starved on a loaded
// machine may hold it for seconds without anything being wrong.
constexpr auto kLoadedPutTimeout = 15000ms;

}  // namespace

// DESIGN.md: a slow watcher is "cancelled with an explicit error: never
// silently dropped". Before the fix, once the connection's queue was full the member dropped
// its watches (server/watch_delivery.cc deliver_watches) and, by its own documented
// rule, sent no cancel. So when the connection reads again it must find
// either every event or a typed cancel; FINDINGS.md #3 (fixed): it found the
// events up to the drop, then silence.
TEST_CASE("a watcher whose connection stops taking bytes gets every event or a typed cancel",
          "[integration][watch][slow]") {
  // etcd's default election timeout (100 ticks of 10 ms), not the harness's
  // 100 ms: on a loaded 2-core machine (load 13-15) a member starved for
  // 100 ms lost its leadership during the 16000 puts, and the puts pending
  // at the old leader came back "outcome unknown" (2 of 10 runs). What is
  // tested is the slow watch, not elections; a put that fails still fails.
  ClusterOptions options;
  options.election_ticks = 100;
  Cluster cluster(raw_zmq_cluster(options));
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const size_t slow_member = (*leader + 1) % cluster.size();
  zmq::context_t ctx;
  const RawConnectionOptions ro = barely_reading();
  RawConnection slow(ctx, cluster.member(slow_member).client_url(), ro);
  WatchCreateRequest wc;
  wc.key = "/many/";
  wc.range_end = prefix_range_end("/many/");
  slow.send_request(1, RequestBody(wc));
  auto created = slow.receive();
  REQUIRE(created);
  REQUIRE_FALSE(created->is_error());

  auto writer = cluster.client({}, kLoadedPutTimeout);
  const std::string value(kSmallValueBytes, 's');
  int64_t first = 0, last = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int base = 0; base < kSmallWrites; base += kWriteWindow) {
    std::vector<std::future<Result<PutResult>>> window;
    for (int i = base; i < std::min(base + kWriteWindow, kSmallWrites); ++i) {
      window.push_back(writer->call_future(PutRequest{"/many/k" + std::to_string(i % 64), value}));
    }
    for (auto& f : window) {
      auto r = f.get();
      INFO("put: " << (r.ok() ? std::string("ok") : to_string(r.error())));
      REQUIRE(r.ok());
      if (first == 0 || r->header.revision < first) first = r->header.revision;
      last = std::max(last, r->header.revision);
    }
  }
  const auto write_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(last - first + 1 == kSmallWrites);
  REQUIRE(cluster.wait_applied(slow_member, cluster.status(*leader)->raft_applied_index, 5000ms));

  SlowOutcome got = drain_slow(slow, kSmallWrites + 16);
  WARN(kSmallWrites << " puts of " << kSmallValueBytes << " bytes in " << write_ms
       << " ms; the connection that never read then got " << got.events << " events in " << got.messages
       << " messages, cancel: " << (got.cancel ? to_string(*got.cancel) : std::string("none")));
  if (got.events < static_cast<size_t>(kSmallWrites)) {
    REQUIRE(got.cancel);
    CHECK(got.cancel->code == ErrorCode::kUnavailable);
    CHECK(got.cancel->message.find("slow watcher") != std::string::npos);
  }
  // The connection itself is still served.
  slow.socket.set(zmq::sockopt::rcvtimeo, 5000);
  slow.send_request(2, RequestBody(StatusRequest{}));
  auto status = slow.receive();
  REQUIRE(status);
  CHECK(status->id == 2);
  CHECK_FALSE(status->is_error());
}

namespace {

// More replies than a connection's ZeroMQ queue (ZMQ_SNDHWM, 10000
// messages) and the loopback socket buffers (~1.5 MB seen) hold, at about
// 100 bytes each.
constexpr uint64_t kUnreadRequests = 40000;

}  // namespace

// Replies to a connection that stops reading are held by the member once
// ZeroMQ refuses them (kBackpressure), in order, and sent when it reads
// again: none is lost. Before, a refused reply was dropped.
TEST_CASE("replies to a connection that stops reading are held in order, not lost",
          "[integration][watch][slow]") {
  Cluster cluster(raw_zmq_cluster());
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const size_t member = (*leader + 1) % cluster.size();
  zmq::context_t ctx;
  const RawConnectionOptions ro = barely_reading();
  RawConnection slow(ctx, cluster.member(member).client_url(), ro);
  RangeRequest q;
  q.key = "/no/such/key";
  q.serializable = true;  // served by the member itself, at once
  for (uint64_t id = 1; id <= kUnreadRequests; ++id) slow.send_request(id, RequestBody(q));
  // The member stays responsive to others meanwhile.
  auto other = cluster.client({cluster.member(member).client_url()});
  require_ok(other->get("/no/such/key"), "read by another client");

  uint64_t next = 1;
  bool in_order = true;
  for (uint64_t i = 0; i < kUnreadRequests; ++i) {
    auto r = slow.receive();
    if (!r) break;
    in_order = in_order && r->id == next && !r->is_error();
    ++next;
  }
  WARN("connection that stopped reading got " << next - 1 << " of " << kUnreadRequests << " replies");
  CHECK(next - 1 == kUnreadRequests);
  CHECK(in_order);
}
