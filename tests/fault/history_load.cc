#include "tests/fault/history_load.h"

#include <map>
#include <random>

#include "client/txn.h"

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
  // The last value this client read of each key: what its cas compares, so
  // that some of them swap.
  std::map<std::string, std::string> last_read;
  const auto deadline = std::chrono::steady_clock::now() + options_.max_duration;
  for (int n = 0; n < options_.max_ops_per_client && !stop_.load() && std::chrono::steady_clock::now() < deadline;
       ++n) {
    const std::string key = options_.prefix + "k" + std::to_string(rng() % options_.keys);
    const std::string value = "c" + std::to_string(client) + "-" + std::to_string(n);
    const unsigned dice = rng() % 8;
    if (dice < 3) {
      put(*c, client, key, value);
    } else if (dice < 5 && !last_read[key].empty()) {
      cas(*c, client, key, last_read[key], value);
    } else {
      get(*c, client, key, last_read[key]);
    }
  }
}

void HistoryLoad::put(client::Client& c, int client, const std::string& key, const std::string& value) {
  const uint64_t id = invoke([&] { return history_.invoke(static_cast<uint64_t>(client), sim::OpKind::kPut, key, value, 0); });
  auto r = c.put(key, value);
  std::lock_guard lock(mu_);
  if (r.ok()) {
    history_.complete(id, 0, "");
    completed_.fetch_add(1);
  } else {
    give_up(id, r.error());
  }
}

// A txn: if the key's value is `expected`, put `value`.
void HistoryLoad::cas(client::Client& c, int client, const std::string& key, const std::string& expected,
                      const std::string& value) {
  const uint64_t id = invoke([&] { return history_.invoke_cas(static_cast<uint64_t>(client), key, expected, value, 0); });
  auto r = c.txn(client::Txn()
                     .when(client::compare_value(key, client::Compare::Op::kEqual, expected))
                     .then(client::op_put(key, value))
                     .build());
  std::lock_guard lock(mu_);
  if (r.ok()) {
    history_.complete_cas(id, 0, r.value().succeeded);
    completed_.fetch_add(1);
    ++(r.value().succeeded ? swapped_ : refused_);
  } else {
    give_up(id, r.error());
  }
}

void HistoryLoad::get(client::Client& c, int client, const std::string& key, std::string& seen) {
  const uint64_t id = invoke([&] { return history_.invoke(static_cast<uint64_t>(client), sim::OpKind::kGet, key, "", 0); });
  auto r = c.get(key);  // linearizable
  std::lock_guard lock(mu_);
  if (r.ok()) {
    const bool found = !r.value().kvs.empty();
    seen = found ? r.value().kvs.front().value : "";
    history_.complete(id, 0, seen, found ? static_cast<uint64_t>(r.value().kvs.front().version) : 0);
    completed_.fetch_add(1);
  } else {
    history_.abandon(id);
  }
}

uint64_t HistoryLoad::invoke(const std::function<uint64_t()>& record) {
  std::lock_guard lock(mu_);
  return record();
}

// A write refused before it reached a member never happened; any other
// failure leaves its outcome unknown. Called with mu_ held.
void HistoryLoad::give_up(uint64_t id, const client::Error& error) {
  if (classify(error) == WriteOutcome::State::kRefused) {
    history_.discard(id);
  } else {
    history_.abandon(id);
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

std::pair<size_t, size_t> HistoryLoad::cas_outcomes() {
  std::lock_guard lock(mu_);
  return {swapped_, refused_};
}

}  // namespace corral::fault
