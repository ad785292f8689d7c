// corralctl endpoint hashkv on a real 3-member cluster: after a load of
// puts, overwrites, deletes and a compaction, every member gives the same
// hash at the same revision (--check exits 0), a past revision hashes the
// same everywhere too, and a revision no member has yet is refused.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kCommandTimeoutMs{20'000};
constexpr int kPuts = 300;

}  // namespace

TEST_CASE("endpoint hashkv: members agree after a load", "[integration][hashkv]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  int64_t mid = 0;
  for (int i = 0; i < kPuts; ++i) {
    auto put = require_ok(c->put("/load/k" + std::to_string(i % 50), "v" + std::to_string(i)), "put");
    if (i == kPuts / 2) mid = put.header.revision;
    if (i % 20 == 0) require_ok(c->del("/load/k" + std::to_string((i + 7) % 50)), "del");
  }
  require_ok(c->compact(mid / 2), "compact");
  const int64_t last = require_ok(c->put("/load/last", "x"), "last put").header.revision;
  // Every member has applied the last write (so that they hash one history).
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto leader = cluster.wait_for_leader();
    REQUIRE(leader);
    REQUIRE(cluster.wait_applied(i, cluster.status(*leader)->raft_applied_index, 10'000ms));
  }

  for (const int64_t rev : {int64_t{0}, mid}) {
    std::vector<std::string> args = {"--endpoints", cluster.endpoints_text(), "-w", "json", "endpoint", "hashkv", "--check"};
    if (rev) args.insert(args.end(), {"--rev", std::to_string(rev)});
    RunResult r = run_program(corralctl_path(), args, cluster.root() + "/hashkv.out", kCommandTimeoutMs);
    INFO("endpoint hashkv --rev " << rev << " -> " << r.exit_code << ": " << r.out);
    CHECK(r.exit_code == 0);
    const std::string want_rev = "\"hash_revision\":" + std::to_string(rev ? rev : last) + ",";
    size_t seen = 0;
    std::set<std::string> hashes;
    for (size_t pos = r.out.find("\"hash\":"); pos != std::string::npos; pos = r.out.find("\"hash\":", pos + 1)) {
      ++seen;
      hashes.insert(r.out.substr(pos, r.out.find(',', pos) - pos));
    }
    CHECK(seen == cluster.size());
    CHECK(hashes.size() == 1);
    size_t revs = 0;
    for (size_t pos = r.out.find(want_rev); pos != std::string::npos; pos = r.out.find(want_rev, pos + 1)) ++revs;
    CHECK(revs == cluster.size());
  }

  // The same through the library, member by member: one hash.
  std::set<uint64_t> hashes;
  for (const std::string& ep : cluster.endpoints()) hashes.insert(require_ok(c->hash_kv_of(ep, last), "hashkv").hash);
  CHECK(hashes.size() == 1);
  // A revision past the current one, and one below the compaction, are refused.
  auto future = c->hash_kv_of(cluster.endpoints()[0], last + 1000);
  REQUIRE_FALSE(future.ok());
  CHECK(future.error().code == client::ErrorCode::kFutureRevision);
  auto compacted = c->hash_kv_of(cluster.endpoints()[0], 1);
  REQUIRE_FALSE(compacted.ok());
  CHECK(compacted.error().code == client::ErrorCode::kCompacted);
  RunResult table = run_program(corralctl_path(), {"--endpoints", cluster.endpoints_text(), "-w", "table", "endpoint", "hashkv"},
                                cluster.root() + "/hashkv.out", kCommandTimeoutMs);
  INFO(table.out);
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("HASH REVISION") != std::string::npos);
}
