// The backend quota, the whole way: a member past --quota-backend-bytes
// refuses puts (tooLarge) but still takes deletes and a compaction; after
// them, `corralctl defrag` shrinks what the quota counts and puts pass again,
// with the keys kept before the quota still there.
#include <catch2/catch.hpp>

#include <signal.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kQuotaBytes = 16 << 20;
constexpr size_t kValueBytes = 256 << 10;
// Enough puts to pass the quota several times over; bounds the loop.
constexpr int kMaxPuts = 4 * static_cast<int>(kQuotaBytes / kValueBytes);
constexpr std::chrono::milliseconds kCommandTimeoutMs{60'000};
// The leader looks at its size once a second.
constexpr std::chrono::milliseconds kQuotaVerdictTimeout{10'000};

// Incompressible: the quota counts table files as stored (compressed).
std::string filler(int i) {
  std::mt19937_64 rng(static_cast<uint64_t>(i) + 1);
  std::string out(kValueBytes, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

}  // namespace

TEST_CASE("a member past its quota comes back after delete, compaction and defrag", "[integration][quota]") {
  ClusterOptions co;
  co.members = 1;
  co.extra_args = {"--quota-backend-bytes", std::to_string(kQuotaBytes)};
  Cluster cluster(co);
  cluster.start();
  auto client = cluster.client();
  require_ok(client->put("/keep", "kept"), "put /keep");
  require_ok(client->put("/scratch", "s"), "put /scratch");

  // Fill past the quota (the leader may refuse the last puts already).
  int written = 0;
  int64_t size = 0;
  for (int i = 0; i < kMaxPuts && size <= kQuotaBytes; ++i) {
    if (client->put("/fill/" + std::to_string(i), filler(i)).ok()) ++written;
    if (i % 8 == 7) {
      auto st = cluster.status(0, 2000ms);
      if (st) size = st->db_size_bytes;
    }
  }
  INFO("written " << written << ", size " << size);
  REQUIRE(size > kQuotaBytes);
  // The leader's next look refuses puts, with a message that says the way out.
  std::optional<client::Error> refused;
  wait_until(
      [&] {
        auto r = client->put("/over", "x");
        if (!r.ok()) refused = r.error();
        return !r.ok();
      },
      kQuotaVerdictTimeout, 100ms);
  REQUIRE(refused.has_value());
  CHECK(refused->code == client::ErrorCode::kTooLarge);
  CHECK(refused->message.find("defrag") != std::string::npos);

  // What frees space still passes past the quota.
  auto deleted = require_ok(client->del("/fill/", "/fill0"), "delete /fill/");
  CHECK(deleted.deleted == written);
  // A compaction keeps what a read at its revision sees, so the revision must
  // be past the deletes: one more (tiny) delete moves it on.
  auto later = require_ok(client->del("/scratch"), "delete /scratch");
  require_ok(client->compact(later.header.revision), "compact");
  CHECK_FALSE(client->put("/still-over", "x").ok());  // a delete alone frees nothing on disk

  std::vector<std::string> args = {"--endpoints", cluster.endpoints_text(), "defrag"};
  RunResult ctl = run_program(corralctl_path(), args, cluster.root() + "/defrag.out", kCommandTimeoutMs);
  INFO("corralctl defrag -> exit " << ctl.exit_code << ":\n" << ctl.out);
  REQUIRE(ctl.exit_code == 0);
  CHECK(ctl.out.find("Defragmented") != std::string::npos);
  auto after = cluster.status(0, 2000ms);
  REQUIRE(after.has_value());
  CHECK(after->db_size_bytes < kQuotaBytes / 2);

  // The leader's next look lets puts in again.
  bool back = wait_until([&] { return client->put("/after", "y").ok(); }, kQuotaVerdictTimeout, 100ms);
  REQUIRE(back);
  auto kept = require_ok(client->get("/keep"), "get /keep");
  REQUIRE(kept.kvs.size() == 1);
  CHECK(kept.kvs[0].value == "kept");
}

TEST_CASE("defrag answers every member it is given, and a dead one with an error", "[integration][quota]") {
  ClusterOptions co;
  co.members = 3;
  Cluster cluster(co);
  cluster.start();
  auto client = cluster.client();
  require_ok(client->put("/a", "1"), "put /a");
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto d = require_ok(client->defragment_of(cluster.member(i).client_url()), "defrag");
    CHECK(d.db_size_bytes_after >= 0);
  }
  cluster.signal_member(2, SIGKILL);
  client::CallOptions quick;
  quick.timeout = 1500ms;
  CHECK_FALSE(client->defragment_of(cluster.member(2).client_url(), quick).ok());
}
