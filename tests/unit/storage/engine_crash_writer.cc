// Not a test by itself: engine_test.cc runs it as a child process that
// writes to a database at argv[1] and then _exits without closing it (a
// crash: no memtable flush at close). A separate process because RocksDB's
// background threads do not survive fork() in a process that used RocksDB.
// Exit codes: 0 done, 2 usage, 10+ the step that failed.
#include <unistd.h>

#include <string>

#include "coordinator/storage/engine.h"

using namespace corral::storage;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  EngineOptions options;
  options.path = argv[1];
  auto opened = Engine::open(options);
  if (!opened.ok()) return 10;
  Engine& engine = *opened.value();
  auto unlogged = [&](const std::string& value) {
    WriteBatch batch;
    for (Space space : {Space::kKv, Space::kKvMeta, Space::kLease, Space::kRaftMeta}) {
      batch.put(space, "k", value);
    }
    return engine.write_unlogged(std::move(batch)).ok();
  };
  if (!unlogged("flushed")) return 11;
  if (!engine.flush().ok()) return 12;
  if (!unlogged("lost")) return 13;
  // A logged, synced write after the unlogged one: the WAL keeps it, and
  // replaying it must not bring the unlogged one back.
  WriteBatch logged;
  logged.put(Space::kRaftLog, "log", "synced");
  if (!engine.write(std::move(logged), true).ok()) return 14;
  ::_exit(0);
}
