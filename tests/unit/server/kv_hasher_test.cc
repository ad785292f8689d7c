#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "../kv/kv_test_util.h"
#include "coordinator/server/kv_hasher.h"

using namespace corral;
using namespace corral::server;
using corral::kv::test::StoreFixture;

namespace {

// The worker's wake-ups, counted, and (when held) blocked until released:
// a held worker keeps its finished job in done_ and takes no other.
class Wakes {
 public:
  void wake() {
    std::unique_lock<std::mutex> lock(mu_);
    ++count_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !held_; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  bool wait_for(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
  }
  explicit Wakes(bool held) : held_(held) {}

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
  bool held_;
};

HashJob job_of(StoreFixture& f, uint64_t request_id, kv::Revision revision = 0) {
  HashJob job;
  job.request_id = request_id;
  job.revision = revision;
  job.current = f.store().current_revision();
  job.compact = f.store().compact_revision();
  job.view = f.engine().read_view();
  return job;
}

}  // namespace

TEST_CASE("KvHasher: hashes the history as of the job's view, off the caller's thread", "[server][hashkv]") {
  StoreFixture f;
  f.put("/k1", "v1");
  f.put("/k2", "v2");
  auto expected = kv::hash_kv(f.engine(), 0, f.store().current_revision(), f.store().compact_revision());
  REQUIRE(expected.ok());
  Wakes wakes(/*held=*/true);
  KvHasher hasher([&] { wakes.wake(); });
  REQUIRE(hasher.submit(job_of(f, 1)));
  REQUIRE(hasher.submit(job_of(f, 2, 9)));  // past the current revision
  // Written after the view was taken: not in the hash.
  f.put("/k3", "v3");
  wakes.release();
  REQUIRE(wakes.wait_for(2));
  auto done = hasher.take_done();
  REQUIRE(done.size() == 2);
  CHECK(done[0].request_id == 1);
  REQUIRE(done[0].hash.ok());
  CHECK(done[0].hash->hash == expected->hash);
  CHECK(done[0].hash->hash_revision == 2);
  CHECK(done[0].view == nullptr);  // released once hashed
  CHECK(done[1].request_id == 2);
  REQUIRE_FALSE(done[1].hash.ok());
  CHECK(done[1].hash.error().code == ErrorCode::kFutureRevision);
  CHECK(hasher.take_done().empty());
}

TEST_CASE("KvHasher: refuses past kMaxHashJobs in hand, answered ones included", "[server][hashkv]") {
  StoreFixture f;
  f.put("/k", "v");
  Wakes wakes(/*held=*/true);
  KvHasher hasher([&] { wakes.wake(); });
  REQUIRE(hasher.submit(job_of(f, 1)));
  REQUIRE(wakes.wait_for(1));  // job 1 is done, its answer not taken; the worker is held
  for (uint64_t id = 2; id <= kMaxHashJobs; ++id) REQUIRE(hasher.submit(job_of(f, id)));
  CHECK_FALSE(hasher.submit(job_of(f, 99)));
  CHECK(hasher.take_done().size() == 1);  // taking the answer frees a place
  CHECK(hasher.submit(job_of(f, 5)));
  wakes.release();
  REQUIRE(wakes.wait_for(1 + kMaxHashJobs));
  CHECK(hasher.take_done().size() == kMaxHashJobs);
}
