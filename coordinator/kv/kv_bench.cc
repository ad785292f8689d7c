// Throughput of MvccStore alone on the in-memory engine: puts/s (one put per
// write txn, batches of kPutsPerBatch written without sync) and ranges/s
// (single-key reads and prefix reads of kPrefixKeys keys); then puts of
// new 256-byte keys (corral-bench's put1000 shape: every put a new key, the
// index growing), in thread CPU time per put; then the key index alone
// (KeyIndex, no store): get_for_put + put of new keys of two shapes (256
// bytes with a random head, and `/apps/<app>/<topic>/<ip>` sharing long
// prefixes), a get of each, and a range over all of them, in CPU ns each.
// Usage: kv_bench [puts] ; prints one line per figure.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "coordinator/kv/key_index.h"
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

double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

// The i-th new key of corral-bench's put1000 shape: 256 bytes, a hex head
// spread over the key space by a multiplicative hash.
std::string random_key(int i) {
  std::string key(256, 'k');
  const uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
  std::snprintf(key.data(), 24, "/bench/%016llx", static_cast<unsigned long long>(h));
  key[23] = 'k';
  return key;
}

// The i-th key of a log-collection shape: 16 apps, 200 topics, host ips.
std::string apps_key(int i) {
  const uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
  char buf[96];
  std::snprintf(buf, sizeof buf, "/apps/app%02u/topic%03u/10.%u.%u.%u", unsigned(h >> 60),
                unsigned((h >> 50) % 200), unsigned((h >> 40) & 255), unsigned((h >> 32) & 255),
                unsigned((h >> 24) & 255));
  return buf;
}

// KeyIndex alone: puts of `n` new keys (get_for_put then put, as a write
// txn does), a get of each, a range over all; CPU ns per key.
void bench_index(const char* shape, int n, std::string (*key_at)(int)) {
  using namespace corral::kv;
  std::vector<std::string> keys;
  keys.reserve(n);
  for (int i = 0; i < n; ++i) keys.push_back(key_at(i));
  KeyIndex index;
  double t0 = thread_cpu_ns();
  Revision rev = 0;
  for (const std::string& k : keys) {
    ++rev;
    if (!index.get_for_put(k, rev)) index.put(k, {rev, 0});
  }
  double t1 = thread_cpu_ns();
  size_t hits = 0;
  for (const std::string& k : keys) hits += index.get(k, rev).has_value();
  double t2 = thread_cpu_ns();
  size_t seen = 0;
  auto all = KeyRange::make("/", prefix_end("/"));
  index.range(*all, rev, [&](std::string_view, const IndexHit&) { return ++seen > 0; });
  double t3 = thread_cpu_ns();
  const double keys_n = static_cast<double>(index.key_count());
  std::printf("index alone, %s keys: %.0f new, put %.0f ns, get %.0f ns, range %.1f ns per key (%zu %zu)\n",
              shape, keys_n, (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / keys_n, hits, seen);
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
  // Each put a new key of 256 bytes (a prefix, then a counter spread over
  // the key space by a multiplicative hash), as corral-bench's random keys.
  timespec c0{}, c1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  std::string key(256, 'k');
  for (int done = 0; done < puts;) {
    storage::WriteBatch batch;
    for (int i = 0; i < kPutsPerBatch && done < puts; ++i, ++done) {
      const uint64_t h = static_cast<uint64_t>(done) * 0x9E3779B97F4A7C15ull;
      std::snprintf(key.data(), 24, "/bench/%016llx", static_cast<unsigned long long>(h));
      key[23] = 'k';
      auto txn = s.begin_write(++index);
      if (!txn.put(key, value).ok()) return 1;
      txn.commit(batch);
    }
    if (!(*engine)->write(std::move(batch), false).ok()) return 1;
    s.batch_written();
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  const double ns = (c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec);
  std::printf("puts of new 256-byte keys: %d, %.0f ns CPU each\n", puts, ns / puts);
  bench_index("256-byte", puts, random_key);
  bench_index("/apps/<app>/<topic>/<ip>", puts, apps_key);
  return 0;
}
