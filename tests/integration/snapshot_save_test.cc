// `snapshot save` against a real cluster, from a follower: the file is the
// member's state image (StateMachine::image: "CRLIMG01", then records
// {u8 space | u32 key length | key | u32 value length | value}, then 0xff),
// then a SHA-256 trailer (schema/snapshot_file.h).
// corrald has no restore command, so the test restores the file the way a
// member installs a raft snapshot (StateMachine::stage_restore on an empty
// engine) and reads the keys back from that state machine.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "client/client.h"
#include "coordinator/kv/key_range.h"
#include "coordinator/server/snapshot_file.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr int kKeys = 60;
constexpr std::string_view kImageMagic = "CRLIMG01";
constexpr std::chrono::milliseconds kCommandTimeoutMs{15'000};

uint32_t get_u32(const std::string& s, size_t pos) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[pos + i])) << (8 * i);
  return v;
}

// Records per space tag, or 0 entries with `error` set if the framing is off.
struct ImageShape {
  std::map<int, size_t> records;
  std::string error;
};

ImageShape shape_of(const std::string& image) {
  ImageShape out;
  if (image.compare(0, kImageMagic.size(), kImageMagic) != 0) {
    out.error = "bad magic";
    return out;
  }
  size_t pos = kImageMagic.size();
  while (pos < image.size() && static_cast<unsigned char>(image[pos]) != 0xff) {
    if (image.size() - pos < 9) {
      out.error = "truncated record at " + std::to_string(pos);
      return out;
    }
    int space = static_cast<unsigned char>(image[pos]);
    size_t klen = get_u32(image, pos + 1);
    pos += 5 + klen;
    if (pos + 4 > image.size()) {
      out.error = "truncated key";
      return out;
    }
    size_t vlen = get_u32(image, pos);
    pos += 4 + vlen;
    if (pos > image.size()) {
      out.error = "truncated value";
      return out;
    }
    ++out.records[space];
  }
  if (pos + 1 != image.size()) out.error = "no end mark, or bytes after it";
  return out;
}

// The keys under `prefix` (key -> value) of a state machine restored from
// `image` on an empty in-memory engine, and its current revision.
struct Restored {
  std::map<std::string, std::string> kvs;
  int64_t revision = 0;
};

// The image of a saved file, its trailer checked.
std::string image_of_file(const std::string& path) {
  auto file = server::read_snapshot_file(path);
  INFO("read_snapshot_file(" << path << "): " << (file.ok() ? std::string("ok") : file.error().message));
  REQUIRE(file.ok());
  return std::string(file->image);
}

Restored restore(const std::string& image, const std::string& prefix) {
  storage::EngineOptions eo;
  eo.in_memory = true;
  eo.path = "/snapshot-restore";
  auto engine = storage::Engine::open(eo);
  REQUIRE(engine.ok());
  auto sm = server::StateMachine::open(**engine, server::StateMachineOptions{});
  REQUIRE(sm.ok());
  storage::WriteBatch batch;
  auto staged = (*sm)->stage_restore(image, batch);
  INFO("stage_restore: " << (staged.ok() ? std::string("ok") : staged.error().message));
  REQUIRE(staged.ok());
  REQUIRE((*engine)->write(std::move(batch), true).ok());
  REQUIRE((*sm)->reload().ok());
  Restored out;
  out.revision = (*sm)->kv().current_revision();
  auto r = (*sm)->kv().range(prefix, kv::prefix_end(prefix));
  REQUIRE(r.ok());
  for (const auto& kv : r->kvs) out.kvs[kv.key] = kv.value;
  return out;
}

}  // namespace

TEST_CASE("snapshot save from a follower holds the keys written, and restores", "[integration][snapshot]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const size_t follower = (*leader + 1) % cluster.size();
  auto c = cluster.client();
  std::map<std::string, std::string> want;
  int64_t last = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string k = "/snap/k" + std::to_string(i);
    std::string v = "value-" + std::to_string(i) + std::string(static_cast<size_t>(i) * 50, 'x');
    last = require_ok(c->put(k, v), "put").header.revision;
    want[k] = v;
  }
  last = require_ok(c->put("/snap/k0", "overwritten"), "overwrite").header.revision;
  want["/snap/k0"] = "overwritten";
  require_ok(c->del("/snap/k1"), "delete");
  want.erase("/snap/k1");
  last = require_ok(c->put("/snap/last", "z"), "last put").header.revision;
  want["/snap/last"] = "z";
  REQUIRE(cluster.wait_applied(follower, cluster.status(*leader)->raft_applied_index, 5000ms));

  // Client::snapshot_save against the follower alone.
  auto fc = cluster.client({cluster.member(follower).client_url()});
  const std::string path = cluster.root() + "/from-follower.img";
  int64_t bytes = require_ok(fc->snapshot_save(path), "snapshot save");
  REQUIRE(std::filesystem::exists(path));
  CHECK(bytes > 0);
  CHECK(static_cast<int64_t>(std::filesystem::file_size(path)) == bytes);
  CHECK_FALSE(std::filesystem::exists(path + ".part"));
  const std::string image = image_of_file(path);
  ImageShape shape = shape_of(image);
  INFO("image framing: " << (shape.error.empty() ? std::string("ok") : shape.error));
  REQUIRE(shape.error.empty());
  CHECK(shape.records[static_cast<int>(storage::Space::kKv)] >= want.size());
  CHECK(shape.records[static_cast<int>(storage::Space::kKvMeta)] >= 1);
  Restored restored = restore(image, "/snap/");
  CHECK(restored.kvs == want);
  CHECK(restored.revision == last);

  // corralctl snapshot save, also against the follower only.
  const std::string ctl_path = cluster.root() + "/ctl.img";
  RunResult ctl = run_program(corralctl_path(),
                              {"--endpoints", cluster.member(follower).client_url(), "snapshot", "save", ctl_path},
                              cluster.root() + "/ctl.out", kCommandTimeoutMs);
  INFO("corralctl snapshot save -> " << ctl.exit_code << ": " << ctl.out);
  CHECK(ctl.exit_code == 0);
  REQUIRE(std::filesystem::exists(ctl_path));
  CHECK(ctl.out.find("Snapshot saved at " + ctl_path + " (" + std::to_string(std::filesystem::file_size(ctl_path)) +
                     " bytes)") != std::string::npos);
  CHECK(restore(image_of_file(ctl_path), "/snap/").kvs == want);

  // A file that cannot be written: a local failure (exit 5), nothing left behind.
  const std::string bad_path = cluster.root() + "/no-such-dir/x.img";
  RunResult bad = run_program(corralctl_path(),
                              {"--endpoints", cluster.member(follower).client_url(), "snapshot", "save", bad_path},
                              cluster.root() + "/ctl-bad.out", kCommandTimeoutMs);
  INFO("corralctl snapshot save to a missing dir -> " << bad.exit_code << ": " << bad.out);
  CHECK(bad.exit_code == 5);
  CHECK_FALSE(std::filesystem::exists(bad_path));
}
