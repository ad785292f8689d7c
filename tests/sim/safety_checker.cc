#include "tests/sim/safety_checker.h"

#include <algorithm>

namespace corral::sim {
namespace {

std::string node_name(raft::NodeId id) { return "n" + std::to_string(id); }

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

// The entry at i in `log`, or nothing if compacted or beyond the end.
std::optional<raft::Entry> entry_at(const raft::LogStorage& log, raft::Index i) {
  if (i < log.first_index() || i > log.last_index()) return std::nullopt;
  auto r = log.entries(i, i + 1, UINT64_MAX);
  if (!r.ok() || r.value().empty()) return std::nullopt;
  return r.value().front();
}

}  // namespace

EntryDigest digest_of(const raft::Entry& e) {
  return {e.term, fnv1a(e.data) ^ static_cast<uint64_t>(e.type)};
}

std::optional<Violation> SafetyChecker::on_leader(raft::NodeId id, raft::Term term,
                                                  const raft::LogStorage& log) {
  auto [it, inserted] = leaders_.emplace(term, id);
  if (!inserted && it->second != id) {
    return Violation{"election safety", "two leaders in term " + std::to_string(term) + ": " +
                                            node_name(it->second) + " and " + node_name(id)};
  }
  for (const auto& [index, digest] : committed_) {
    if (digest.term >= term) break;
    if (auto v = check_leader_has(id, term, log, index)) return v;
  }
  return std::nullopt;
}

std::optional<Violation> SafetyChecker::check_leader_has(raft::NodeId id, raft::Term term,
                                                         const raft::LogStorage& log,
                                                         raft::Index index) const {
  auto c = committed_.find(index);
  if (c == committed_.end() || c->second.term >= term) return std::nullopt;
  if (committed_by_term_at_most_.at(index) >= term) return std::nullopt;  // maybe committed after `term`
  if (index < log.first_index()) return std::nullopt;  // inside its snapshot
  std::optional<raft::Entry> e = entry_at(log, index);
  if (!e || !(digest_of(*e) == c->second)) {
    return Violation{"leader completeness",
                     node_name(id) + " leads term " + std::to_string(term) +
                         " without committed entry " + std::to_string(index) + " (term " +
                         std::to_string(c->second.term) + ")" +
                         (e ? "; it has term " + std::to_string(e->term) : "; its log ends at " +
                                                                               std::to_string(log.last_index()))};
  }
  return std::nullopt;
}

std::optional<Violation> SafetyChecker::on_committed(raft::NodeId id, const raft::Entry& e) {
  const EntryDigest d = digest_of(e);
  auto [it, inserted] = committed_.emplace(e.index, d);
  if (inserted) committed_by_term_at_most_[e.index] = leaders_.empty() ? e.term : leaders_.rbegin()->first;
  if (!inserted && !(it->second == d)) {
    return Violation{"log matching", node_name(id) + " committed entry " + std::to_string(e.index) +
                                         " of term " + std::to_string(e.term) +
                                         " but term " + std::to_string(it->second.term) +
                                         " (or other data) was committed there before"};
  }
  return std::nullopt;
}

std::optional<Violation> SafetyChecker::on_apply(raft::NodeId id, raft::Index applied_before,
                                                 const raft::Entry& e) {
  if (e.index != applied_before + 1) {
    return Violation{"state machine safety", node_name(id) + " applies entry " +
                                                 std::to_string(e.index) + " after " +
                                                 std::to_string(applied_before)};
  }
  const EntryDigest d = digest_of(e);
  auto [it, inserted] = applied_.emplace(e.index, d);
  if (!inserted && !(it->second == d)) {
    return Violation{"state machine safety",
                     node_name(id) + " applies entry " + std::to_string(e.index) + " of term " +
                         std::to_string(e.term) + " but another node applied term " +
                         std::to_string(it->second.term) + " (or other data) there"};
  }
  return std::nullopt;
}

void SafetyChecker::on_snapshot(raft::NodeId, raft::Index) {}

std::optional<Violation> SafetyChecker::check_logs(
    const std::vector<std::pair<raft::NodeId, const raft::LogStorage*>>& logs) const {
  // Each committed prefix against the known committed entries.
  for (const auto& [id, log] : logs) {
    const raft::Index commit = std::min(log->initial_state().hard_state.commit, log->last_index());
    for (raft::Index i = log->first_index(); i <= commit; ++i) {
      auto c = committed_.find(i);
      if (c == committed_.end()) continue;
      std::optional<raft::Entry> e = entry_at(*log, i);
      if (e && !(digest_of(*e) == c->second)) {
        return Violation{"log matching", node_name(id) + " holds entry " + std::to_string(i) +
                                             " of term " + std::to_string(e->term) +
                                             " below its commit index, but term " +
                                             std::to_string(c->second.term) + " was committed there"};
      }
    }
  }
  // Pairwise: find the highest index where both logs have the same term;
  // everything from the start of the overlap up to it must be identical.
  for (size_t a = 0; a < logs.size(); ++a) {
    for (size_t b = a + 1; b < logs.size(); ++b) {
      const raft::LogStorage& la = *logs[a].second;
      const raft::LogStorage& lb = *logs[b].second;
      const raft::Index lo = std::max(la.first_index(), lb.first_index());
      const raft::Index hi = std::min(la.last_index(), lb.last_index());
      if (lo > hi) continue;
      auto ea = la.entries(lo, hi + 1, UINT64_MAX);
      auto eb = lb.entries(lo, hi + 1, UINT64_MAX);
      if (!ea.ok() || !eb.ok()) continue;
      const std::vector<raft::Entry>& va = ea.value();
      const std::vector<raft::Entry>& vb = eb.value();
      const size_t n = std::min(va.size(), vb.size());
      size_t match = n;  // one past the highest equal-term position
      while (match > 0 && va[match - 1].term != vb[match - 1].term) --match;
      for (size_t k = 0; k < match; ++k) {
        if (!(va[k] == vb[k])) {
          return Violation{"log matching",
                           node_name(logs[a].first) + " and " + node_name(logs[b].first) +
                               " share entry " + std::to_string(va[match - 1].index) + " of term " +
                               std::to_string(va[match - 1].term) + " but differ at index " +
                               std::to_string(va[k].index)};
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace corral::sim
