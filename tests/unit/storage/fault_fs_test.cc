// The fault file system under a real engine (coordinator/storage/fault_fs.h):
// its knob's parsing, a sync that fails after N, and a power cut that keeps
// exactly what was synced (in a forked child, since the cut ends the process).
#include "coordinator/storage/fault_fs.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "coordinator/storage/engine.h"
#include "tests/unit/storage/temp_dir.h"

using namespace corral;
using namespace corral::storage;

namespace {

// Sets CORRAL_FAULT_FS for the scope.
class FaultEnv {
 public:
  explicit FaultEnv(const std::string& value) { ::setenv(kFaultFsEnv, value.c_str(), 1); }
  ~FaultEnv() { ::unsetenv(kFaultFsEnv); }
};

Status put(Engine& e, const std::string& key, bool sync) {
  WriteBatch b;
  b.put(Space::kKv, key, "v-" + key);
  return e.write(std::move(b), sync);
}

}  // namespace

TEST_CASE("fault fs: the knob's values, and a typed error for anything else", "[storage][fault_fs]") {
  auto a = parse_fault_plan("fsync-fail-after:7");
  REQUIRE(a.ok());
  CHECK(a->kind == FaultPlan::Kind::kFsyncFailAfter);
  CHECK(a->count == 7);
  auto b = parse_fault_plan("power-cut-after-ms:250");
  REQUIRE(b.ok());
  CHECK(b->kind == FaultPlan::Kind::kPowerCutAfterMs);
  CHECK(b->count == 250);
  for (const char* bad : {"", "fsync-fail-after:", "fsync-fail-after:x", "power-cut-after-ms:-1", "crash"}) {
    auto r = parse_fault_plan(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().message.find(kFaultFsEnv) != std::string::npos);
  }
  {
    FaultEnv env("nonsense");
    testing::TempDir dir;
    auto e = Engine::open(EngineOptions{dir.sub("db")});
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code == ErrorCode::kBadRequest);
  }
}

// In a forked child: after the failed sync the child exits without
// closing the engine (as corrald stops; RocksDB's own assertions may fire
// on a writer used again after an error).
TEST_CASE("fault fs: syncs fail after N with the injected error; unset, nothing is injected", "[storage][fault_fs]") {
  testing::TempDir dir;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::setenv(kFaultFsEnv, "fsync-fail-after:1000", 1);
    auto e = Engine::open(EngineOptions{dir.sub("db")});
    if (!e.ok()) std::_Exit(2);
    // Syncs happen during the open too: fewer than 1000 writes pass.
    int passed = 0;
    for (int i = 0; i < 2000; ++i) {
      Status s = put(**e, "k" + std::to_string(i), true);
      if (!s.ok()) {
        const bool injected = s.error().message.find("injected fsync failure") != std::string::npos;
        std::_Exit(injected && passed > 0 && passed <= 1000 ? 0 : 3);
      }
      ++passed;
    }
    std::_Exit(4);  // never failed
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto e = Engine::open(EngineOptions{dir.sub("clean")});
  REQUIRE(e.ok());
  for (int i = 0; i < 1200; ++i) REQUIRE(put(**e, "k" + std::to_string(i), true).ok());
}

TEST_CASE("fault fs: a power cut keeps what was synced and drops what was not", "[storage][fault_fs]") {
  testing::TempDir dir;
  const std::string path = dir.sub("db");
  // The child writes a byte to the pipe after each synced put returns: the
  // cut is timed, and a slow child (ASan at load 20) may be cut before it
  // has synced all 50, so only those it acknowledged must be there.
  int acks[2];
  REQUIRE(::pipe(acks) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(acks[0]);
    ::setenv(kFaultFsEnv, "power-cut-after-ms:1500", 1);
    auto e = Engine::open(EngineOptions{path});
    if (!e.ok()) std::_Exit(2);
    for (int i = 0; i < 50; ++i) {
      if (!put(**e, "synced" + std::to_string(i), true).ok()) std::_Exit(3);
      if (::write(acks[1], "s", 1) != 1) std::_Exit(6);
    }
    for (int i = 0; i < 50; ++i) {
      if (!put(**e, "unsynced" + std::to_string(i), false).ok()) std::_Exit(4);
    }
    // Bounded: the cut comes after 1.5 s.
    std::this_thread::sleep_for(std::chrono::seconds(20));
    std::_Exit(5);
  }
  ::close(acks[1]);
  int acknowledged = 0;
  char buf[64];
  for (ssize_t n; (n = ::read(acks[0], buf, sizeof(buf))) > 0;) acknowledged += static_cast<int>(n);
  ::close(acks[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == kPowerCutExitCode);
  auto e = Engine::open(EngineOptions{path});
  REQUIRE(e.ok());
  for (int i = 0; i < acknowledged; ++i) {
    auto v = (*e)->get(Space::kKv, "synced" + std::to_string(i));
    REQUIRE(v.ok());
    CHECK(v->has_value());
  }
  int unsynced_left = 0;
  for (int i = 0; i < 50; ++i) {
    auto v = (*e)->get(Space::kKv, "unsynced" + std::to_string(i));
    REQUIRE(v.ok());
    if (v->has_value()) ++unsynced_left;
  }
  CHECK(unsynced_left == 0);
}
