// Throughput of MvccStore alone on the in-memory engine: puts/s (one put per
// write txn, batches of kPutsPerBatch written without sync) and ranges/s
// (single-key reads and prefix reads of kPrefixKeys keys).
// Usage: kv_bench [puts] ; prints one line per figure.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/mvcc_store.h"

namespace {

constexpr int kDefaultPuts = 200000;
constexpr int kPutsPerBatch = 100;
constexpr int kKeySpace = 10000;
constexpr int kPrefixKeys = 10;
constexpr size_t kValueBytes = 100;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string key_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/bench/%06d", i);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace corral;
  int puts = argc > 1 ? std::atoi(argv[1]) : kDefaultPuts;
  if (puts <= 0) puts = kDefaultPuts;
  storage::EngineOptions opts;
  opts.path = "/kv-bench";
  opts.in_memory = true;
  auto engine = storage::Engine::open(opts);
  if (!engine.ok()) {
    std::fprintf(stderr, "engine: %s\n", engine.error().message.c_str());
    return 1;
  }
  auto store = kv::MvccStore::open(**engine);
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.error().message.c_str());
    return 1;
  }
  kv::MvccStore& s = **store;
  std::string value(kValueBytes, 'v');

  auto t0 = std::chrono::steady_clock::now();
  uint64_t index = 0;
  for (int done = 0; done < puts;) {
    storage::WriteBatch batch;
    for (int i = 0; i < kPutsPerBatch && done < puts; ++i, ++done) {
      auto txn = s.begin_write(++index);
      auto r = txn.put(key_of(done % kKeySpace), value);
      if (!r.ok()) return 1;
      txn.commit(batch);
    }
    if (!(*engine)->write(std::move(batch), false).ok()) return 1;
    s.batch_written();
  }
  double put_s = seconds_since(t0);
  std::printf("puts: %d in %.3f s = %.0f puts/s (value %zu bytes, %d keys)\n", puts, put_s,
              puts / put_s, kValueBytes, kKeySpace);

  int gets = puts;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < gets; ++i) {
    auto r = s.range(key_of(i % kKeySpace));
    if (!r.ok() || r->kvs.size() != 1) return 1;
  }
  double get_s = seconds_since(t0);
  std::printf("single-key ranges: %d in %.3f s = %.0f ranges/s\n", gets, get_s, gets / get_s);

  int prefixes = puts / kPrefixKeys;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < prefixes; ++i) {
    std::string p = key_of((i % (kKeySpace / kPrefixKeys)) * kPrefixKeys);
    p.pop_back();
    auto r = s.range(p, kv::prefix_end(p));
    if (!r.ok() || r->kvs.size() != kPrefixKeys) return 1;
  }
  double prefix_s = seconds_since(t0);
  std::printf("prefix ranges (%d keys each): %d in %.3f s = %.0f ranges/s\n", kPrefixKeys, prefixes,
              prefix_s, prefixes / prefix_s);
  return 0;
}
