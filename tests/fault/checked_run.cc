#include "tests/fault/checked_run.h"

#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/integration/harness/require_ok.h"

namespace corral::fault {

using namespace std::chrono_literals;
using integration::Cluster;
using integration::require_ok;
using integration::wait_until;

// The leader that every member of `among` names, once they agree on one
// that is itself in `among` and is not `not_id`.
std::optional<size_t> leader_among(Cluster& cluster, const std::vector<size_t>& among, uint64_t not_id,
                                   std::chrono::milliseconds timeout) {
  std::optional<size_t> found;
  wait_until(
      [&] {
        uint64_t agreed = 0;
        for (size_t i : among) {
          auto st = cluster.status(i);
          if (!st || st->leader == 0 || st->leader == not_id) return false;
          if (agreed != 0 && st->leader != agreed) return false;
          agreed = st->leader;
        }
        for (size_t i : among) {
          if (cluster.member_id(i) == agreed) {
            found = i;
            return true;
          }
        }
        return false;
      },
      timeout, 50ms);
  return found;
}

std::vector<size_t> all_members(const Cluster& cluster) {
  std::vector<size_t> out;
  for (size_t i = 0; i < cluster.size(); ++i) out.push_back(i);
  return out;
}

CheckedRun::CheckedRun(Cluster& cluster)
    : cluster_(cluster),
      leaders_(cluster),
      load_(cluster, WriteLoadOptions{.threads = 4, .writes_per_thread = 100'000, .max_duration = 120'000ms}),
      reg_(cluster, "/register", 120'000ms),
      history_(cluster, HistoryLoadOptions{}) {
  load_.start();
  reg_.start();
  history_.start();
}

bool CheckedRun::progressed(size_t by) {
  const size_t from = load_.acked();
  return wait_until([&] { return load_.acked() >= from + by; }, kProgressTimeout);
}

void CheckedRun::finish(const std::string& name) {
  REQUIRE(leader_among(cluster_, all_members(cluster_), 0, kHealTimeout));
  CHECK(progressed(kAcksDuringFault));
  reg_.stop();
  load_.stop();
  history_.stop();
  leaders_.stop();
  auto verdict = history_.check();
  const auto [swapped, compare_failed] = history_.cas_outcomes();
  std::printf("network fault [%s]: history of %zu operations on %d keys (cas: %zu swapped, %zu compare failed): %s\n",
              name.c_str(), history_.operations(), HistoryLoadOptions{}.keys, swapped, compare_failed,
              verdict.exhausted ? "search bound hit" : verdict.ok ? "linearizable" : "NOT linearizable");
  CHECK(swapped > 0);  // the cas path was exercised, not only puts and reads
  INFO("not linearizable at key " << verdict.key << ": " << verdict.detail);
  CHECK(verdict.ok);
  if (verdict.exhausted) WARN("linearizability search bound hit: neither proven nor refuted");
  auto reader = cluster_.client();
  WriteCheck check = check_writes(*reader, "/load/", load_.outcomes());
  print_summary("network fault: " + name, load_, check, leaders_.changes());
  INFO("lost: " << check.lost << ", applied twice: " << check.duplicated);
  CHECK(check.lost == 0);
  CHECK(check.phantom == 0);
  CHECK(check.duplicated == 0);
  CHECK(reg_.violations() == 0);
  for (const auto& v : reg_.violation_texts()) UNSCOPED_INFO(v);
  CHECK(reg_.check_version(*reader).empty());
  CHECK(reg_.reads_ok() > 0);
  // Everyone converges on one applied index.
  auto marker = require_ok(reader->put("/fault/done", name), "marker");
  (void)marker;
  auto lead = leader_among(cluster_, all_members(cluster_), 0, kHealTimeout);
  REQUIRE(lead);
  auto st = cluster_.status(*lead);
  REQUIRE(st);
  for (size_t i = 0; i < cluster_.size(); ++i) CHECK(cluster_.wait_applied(i, st->raft_applied_index, kHealTimeout));
}

}  // namespace corral::fault
