// Randomized model test: random writes, txns and compactions against
// MvccStore and a plain reference model (key -> list of versions), compared
// at every step, at random past revisions, in listings and in history.
// Seeded and bounded; a failure prints its seed and step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <unistd.h>

#include "coordinator/kv/key_range.h"
#include "coordinator/kv/limits.h"
#include "kv_test_util.h"

using namespace corral;
using namespace corral::kv;
using corral::kv::test::StoreFixture;

namespace {

constexpr int kStepsPerSeed = 500;
constexpr int kReopenEverySteps = 97;  // disk run only

const std::vector<std::string> kKeys = {"/a",     "/a/b", "/a/b/c", "/a/c",     "/b", "/b/x/y",
                                        "/c",     "a",    "/a/b/d/e", "/ab",    "/a/"};

// The reference: every version of every key, and every event, in order.
class Model {
 public:
  Revision rev = 0;
  Revision compacted = 0;

  std::optional<KeyValue> at(const std::string& key, Revision r) const {
    auto it = hist_.find(key);
    if (it == hist_.end()) return std::nullopt;
    std::optional<KeyValue> out;
    for (const auto& [when, kv] : it->second) {
      if (when > r) break;
      out = kv;
    }
    return out;
  }
  std::vector<KeyValue> snapshot(Revision r, const KeyRange& range) const {
    std::vector<KeyValue> out;
    for (const auto& [key, versions] : hist_) {
      if (!range.contains(key)) continue;
      if (auto kv = at(key, r)) out.push_back(*kv);
    }
    return out;
  }
  std::vector<DirEntry> list(const std::string& prefix, Revision r) const {
    std::map<std::string, DirEntry> names;
    for (const auto& [key, versions] : hist_) {
      if (!key.starts_with(prefix) || !at(key, r)) continue;
      std::string rest = key.substr(prefix.size());
      size_t slash = rest.find('/');
      std::string name = rest.substr(0, slash);
      if (name.empty()) continue;
      names[name].name = name;
      (slash == std::string::npos ? names[name].is_key : names[name].is_dir) = true;
    }
    std::vector<DirEntry> out;
    for (auto& [n, e] : names) out.push_back(e);
    return out;
  }
  std::vector<RevisionEvents> events_from(Revision from) const {
    std::vector<RevisionEvents> out;
    for (const auto& re : events_) {
      if (re.revision >= from) out.push_back(re);
    }
    return out;
  }

  // One write txn: ops land at rev + 1 if any changes.
  void begin() { pending_.clear(); }
  void put(const std::string& key, const std::string& value, LeaseId lease) {
    Revision r = rev + 1;
    auto prev = at(key, r);
    KeyValue kv{key, value, prev ? prev->create_revision : r, r, prev ? prev->version + 1 : 1, lease};
    hist_[key].emplace_back(r, kv);
    pending_.push_back(Event{Event::Type::kPut, kv, prev});
  }
  void del(const KeyRange& range) {
    Revision r = rev + 1;
    for (const KeyValue& prev : snapshot(r, range)) {
      KeyValue tomb;
      tomb.key = prev.key;
      tomb.mod_revision = r;
      hist_[prev.key].emplace_back(r, std::nullopt);
      pending_.push_back(Event{Event::Type::kDelete, tomb, prev});
    }
  }
  void end() {
    if (pending_.empty()) return;
    ++rev;
    events_.push_back(RevisionEvents{rev, pending_});
  }

 private:
  std::map<std::string, std::vector<std::pair<Revision, std::optional<KeyValue>>>> hist_;
  std::vector<RevisionEvents> events_;
  std::vector<Event> pending_;
};

KeyRange range_of(const std::string& key, const std::string& end) {
  auto r = KeyRange::make(key, end);
  REQUIRE(r.ok());
  return *r;
}

void check_events(const Result<std::vector<RevisionEvents>>& got, const std::vector<RevisionEvents>& want) {
  REQUIRE(got.ok());
  REQUIRE(got->size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK((*got)[i].revision == want[i].revision);
    CHECK((*got)[i].events == want[i].events);
  }
}

void run_model(uint64_t seed, const std::string& dir) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  StoreFixture f(dir);
  Model m;
  const KeyRange all = range_of("", std::string(kRangeEndAll));
  for (int step = 0; step < kStepsPerSeed; ++step) {
    INFO("seed " << seed << " step " << step);
    size_t dice = pick(100);
    const std::string& key = kKeys[pick(kKeys.size())];
    std::string value = "v" + std::to_string(pick(1000));
    LeaseId lease = static_cast<LeaseId>(pick(3));
    if (dice < 40) {
      PutOptions o;
      o.prev_kv = true;
      RevisionEvents ev = f.write([&](WriteTxn& t) {
        auto r = t.put(key, value, lease, o);
        REQUIRE(r.ok());
        CHECK(r->prev_kv == m.at(key, m.rev));
      });
      m.begin();
      m.put(key, value, lease);
      m.end();
      CHECK(ev.events == m.events_from(m.rev).at(0).events);
    } else if (dice < 55) {
      f.write([&](WriteTxn& t) { REQUIRE(t.delete_range(key).ok()); });
      m.begin();
      m.del(range_of(key, ""));
      m.end();
    } else if (dice < 63) {
      std::string end = prefix_end(key);
      f.write([&](WriteTxn& t) { REQUIRE(t.delete_range(key, end).ok()); });
      m.begin();
      m.del(range_of(key, end));
      m.end();
    } else if (dice < 80) {
      // Compare-and-swap on key's mod_revision, with a right or a wrong guess.
      auto cur = m.at(key, m.rev);
      Compare c;
      c.key = key;
      c.target = Compare::Target::kModRevision;
      c.number = (cur ? cur->mod_revision : 0) + (pick(3) == 0 ? 1 : 0);
      const std::string& k2 = kKeys[pick(kKeys.size())];
      const std::string& k3 = kKeys[pick(kKeys.size())];
      TxnRequest req;
      req.compare.push_back(c);
      req.success.push_back(PutRequest{key, value, lease, {}});
      req.success.push_back(DeleteRequest{k2, "", false});
      req.success.push_back(PutRequest{k3, value + "s", 0, {}});
      req.failure.push_back(PutRequest{k2, value + "f", 0, {}});
      bool expect = (cur ? cur->mod_revision : 0) == c.number;
      f.write([&](WriteTxn& t) {
        auto r = t.txn(req);
        REQUIRE(r.ok());
        CHECK(r->succeeded == expect);
      });
      m.begin();
      if (expect) {
        m.put(key, value, lease);
        m.del(range_of(k2, ""));
        m.put(k3, value + "s", 0);
      } else {
        m.put(k2, value + "f", 0);
      }
      m.end();
    } else if (dice < 85) {
      f.write([&](WriteTxn& t) { REQUIRE(t.delete_range("/none").ok()); });
    } else if (dice < 90 && m.rev > m.compacted) {
      Revision target = m.compacted + 1 + static_cast<Revision>(pick(static_cast<size_t>(m.rev - m.compacted)));
      f.compact(target);
      m.compacted = target;
    }
    if (!dir.empty() && step % kReopenEverySteps == kReopenEverySteps - 1) f.reopen();

    MvccStore& s = f.store();
    REQUIRE(s.current_revision() == m.rev);
    REQUIRE(s.compact_revision() == m.compacted);
    auto now = s.range("", kRangeEndAll);
    REQUIRE(now.ok());
    CHECK(now->kvs == m.snapshot(m.rev, all));
    if (m.rev > m.compacted) {
      // Revision 0 means "current" to the store: past reads start at 1.
      Revision lowest = std::max<Revision>(m.compacted, 1);
      Revision past = lowest + static_cast<Revision>(pick(static_cast<size_t>(m.rev - lowest + 1)));
      RangeOptions o;
      o.revision = past;
      auto then = s.range("/a", prefix_end("/a"), o);
      REQUIRE(then.ok());
      CHECK(then->kvs == m.snapshot(past, range_of("/a", prefix_end("/a"))));
      auto ls = s.list("/a", past);
      REQUIRE(ls.ok());
      CHECK(ls->entries == m.list("/a/", past));
    }
    if (m.compacted > 1) {
      RangeOptions o;
      o.revision = m.compacted - 1;
      auto below = s.range("/a", {}, o);
      REQUIRE_FALSE(below.ok());
      CHECK(below.error().code == ErrorCode::kCompacted);
      CHECK(below.error().revision == m.compacted);
    }
    if (step % 10 == 0 && m.rev > m.compacted) {
      // From the compaction point on (etcd serves a watch from it), events
      // match the model exactly, prev_kv included.
      Revision lowest = std::max<Revision>(m.compacted, 1);
      Revision from = lowest + static_cast<Revision>(pick(static_cast<size_t>(m.rev - lowest + 1)));
      check_events(s.events(from, "", kRangeEndAll, kMaxHistoryEventsPerRead), m.events_from(from));
      if (m.compacted > 1) {
        auto below = s.events(m.compacted - 1, "", kRangeEndAll, kMaxHistoryEventsPerRead);
        REQUIRE_FALSE(below.ok());
        CHECK(below.error().code == ErrorCode::kCompacted);
        CHECK(below.error().revision == m.compacted);
      }
    }
  }
}

}  // namespace

TEST_CASE("randomized model test on the in-memory engine", "[model]") {
  for (uint64_t seed : {1ULL, 2ULL, 3ULL}) run_model(seed, {});
}

TEST_CASE("randomized model test on disk with reopens", "[model][recovery]") {
  auto dir = std::filesystem::temp_directory_path() / ("corral-kv-model-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  run_model(42, dir.string());
  std::filesystem::remove_all(dir);
}
