// Not a test: measures one Ready's durable write on this disk, i.e.
// stage_append + one synced WriteBatch + on_written, for batches of 1 and
// 100 entries of 1 KiB. Usage: storage_probe [dir] [rounds]
// (dir defaults to a fresh directory under the system temp dir).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"

namespace {

constexpr size_t kEntryBytes = 1024;
constexpr int kDefaultRounds = 200;

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace corral;
  std::string dir = argc > 1 ? argv[1]
                             : (std::filesystem::temp_directory_path() /
                                ("corral-storage-probe-" + std::to_string(::getpid())))
                                   .string();
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : kDefaultRounds;
  std::filesystem::remove_all(dir);

  storage::EngineOptions options;
  options.path = dir;
  auto engine = storage::Engine::open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.error().message.c_str());
    return 1;
  }
  auto store = storage::RaftLogStore::open(engine.value().get());
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.error().message.c_str());
    return 1;
  }
  raft::Index next = 1;
  std::printf("dir=%s rounds=%d entry_bytes=%zu\n", dir.c_str(), rounds, kEntryBytes);
  for (size_t batch_entries : {size_t{1}, size_t{100}}) {
    for (bool sync : {true, false}) {
      std::vector<double> micros;
      for (int r = 0; r < rounds; ++r) {
        std::vector<raft::Entry> entries;
        for (size_t i = 0; i < batch_entries; ++i) {
          entries.push_back(raft::Entry{1, next++, raft::EntryType::kNormal,
                                        std::string(kEntryBytes, static_cast<char>('a' + i % 26))});
        }
        const auto start = std::chrono::steady_clock::now();
        storage::WriteBatch batch;
        if (!store.value()->stage_append(batch, entries).ok()) return 1;
        store.value()->stage_hard_state(batch, raft::HardState{1, 1, next - 1});
        if (!engine.value()->write(std::move(batch), sync).ok()) return 1;
        store.value()->on_written();
        micros.push_back(std::chrono::duration<double, std::micro>(
                             std::chrono::steady_clock::now() - start)
                             .count());
      }
      double sum = 0;
      for (double m : micros) sum += m;
      std::printf("entries=%3zu sync=%d  mean=%8.1f us  p50=%8.1f us  p99=%8.1f us  "
                  "per-entry=%6.1f us\n",
                  batch_entries, sync ? 1 : 0, sum / rounds, percentile(micros, 0.5),
                  percentile(micros, 0.99), sum / rounds / static_cast<double>(batch_entries));
    }
  }
  store.value().reset();
  engine.value().reset();
  if (argc <= 1) std::filesystem::remove_all(dir);
  return 0;
}
