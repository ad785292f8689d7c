#include "tests/fault/history_load.h"

#include <random>

#include "tests/fault/workload.h"

namespace corral::fault {

HistoryLoad::HistoryLoad(const integration::Cluster& cluster, HistoryLoadOptions options)
    : cluster_(cluster), options_(std::move(options)) {}

HistoryLoad::~HistoryLoad() { stop(); }

void HistoryLoad::start() {
  for (int c = 0; c < options_.clients; ++c) threads_.emplace_back([this, c] { run(c); });
}

void HistoryLoad::stop() {
  stop_.store(true);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void HistoryLoad::run(int client) {
  auto c = cluster_.client({}, options_.request_timeout);
  std::mt19937 rng(static_cast<unsigned>(client) + 1);
  const auto deadline = std::chrono::steady_clock::now() + options_.max_duration;
  for (int n = 0; n < options_.max_ops_per_client && !stop_.load() && std::chrono::steady_clock::now() < deadline;
       ++n) {
    const std::string key = options_.prefix + "k" + std::to_string(rng() % options_.keys);
    const uint64_t id_client = static_cast<uint64_t>(client);
    if (rng() % 2 == 0) {
      const std::string value = "c" + std::to_string(client) + "-" + std::to_string(n);
      uint64_t id;
      {
        std::lock_guard lock(mu_);
        id = history_.invoke(id_client, sim::OpKind::kPut, key, value, 0);
      }
      auto r = c->put(key, value);
      std::lock_guard lock(mu_);
      if (r.ok()) {
        history_.complete(id, 0, "");
        completed_.fetch_add(1);
      } else if (classify(r.error()) == WriteOutcome::State::kRefused) {
        history_.discard(id);
      } else {
        history_.abandon(id);
      }
    } else {
      uint64_t id;
      {
        std::lock_guard lock(mu_);
        id = history_.invoke(id_client, sim::OpKind::kGet, key, "", 0);
      }
      auto r = c->get(key);  // linearizable
      std::lock_guard lock(mu_);
      if (r.ok()) {
        const bool found = !r.value().kvs.empty();
        history_.complete(id, 0, found ? r.value().kvs.front().value : "",
                          found ? static_cast<uint64_t>(r.value().kvs.front().version) : 0);
        completed_.fetch_add(1);
      } else {
        history_.abandon(id);
      }
    }
  }
}

sim::LinearizabilityResult HistoryLoad::check() {
  std::lock_guard lock(mu_);
  return sim::check_linearizable(history_.operations());
}

size_t HistoryLoad::operations() {
  std::lock_guard lock(mu_);
  return history_.operations().size();
}

}  // namespace corral::fault
