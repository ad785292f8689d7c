// A load whose whole history is judged for linearizability: a few client
// threads, each with its own client, put unique values into, compare-and-swap
// (a txn on the value last read) and read (linearizably) a handful of keys, recording every call and return in one
// history; tests/sim's checker (Wing & Gong with memoization, per key)
// then decides whether some order of the operations, consistent with real
// time, explains every value and version read. A put whose outcome is
// unknown (timeout, member gone) may take effect at any later point or
// never; a put refused before reaching a member is dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness/cluster.h"
#include "tests/sim/history.h"
#include "tests/sim/linearizability.h"

namespace corral::fault {

struct HistoryLoadOptions {
  std::string prefix = "/lin/";
  int keys = 4;
  int clients = 4;
  // Bounds the history (and so the checker's search).
  int max_ops_per_client = 3000;
  std::chrono::milliseconds max_duration{120'000};
  std::chrono::milliseconds request_timeout{3'000};
};

class HistoryLoad {
 public:
  HistoryLoad(const integration::Cluster& cluster, HistoryLoadOptions options);
  ~HistoryLoad();
  void start();
  // Ends every client after its current operation.
  void stop();
  size_t completed() const { return completed_.load(); }
  // After stop(): the checker's verdict over the whole history.
  sim::LinearizabilityResult check();
  size_t operations();
  // Completed cas operations: {swapped, compare failed}.
  std::pair<size_t, size_t> cas_outcomes();

 private:
  void run(int client);
  void put(client::Client& c, int client, const std::string& key, const std::string& value);
  void cas(client::Client& c, int client, const std::string& key, const std::string& expected,
           const std::string& value);
  void get(client::Client& c, int client, const std::string& key, std::string& seen);
  uint64_t invoke(const std::function<uint64_t()>& record);
  void give_up(uint64_t id, const client::Error& error);

  const integration::Cluster& cluster_;
  HistoryLoadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> completed_{0};
  std::mutex mu_;
  sim::History history_;
  size_t swapped_ = 0;
  size_t refused_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace corral::fault
