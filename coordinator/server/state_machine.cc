#include "coordinator/server/state_machine.h"

#include <cstdio>
#include <cstring>

#include "coordinator/api/request.h"
#include "coordinator/base/check.h"
#include "coordinator/kv/key_range.h"
#include "coordinator/kv/txn_check.h"
#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/server/command.h"
#include "coordinator/server/log.h"
#include "coordinator/server/state_image.h"
#include "schema/data_bytes.h"
#include "schema/log_records.h"

namespace corral::server {

namespace wire = corral::schema::api;
using storage::Space;

// The key space's history as the watch hub sees it, through sm_ because a
// restore replaces the store. One compact revision everywhere: kv's, the
// compaction point, which range, txn ranges and watch cancels all report
// (etcd's compact_revision); the hub and kv both refuse history from below
// it and serve it from the compaction point on, as etcd does (the changes
// made at the point are kept), so a client re-watches from compact_revision.
class StateMachine::History : public watch::EventHistory {
 public:
  explicit History(const StateMachine* sm) : sm_(sm) {}
  kv::Revision current_revision() const override { return sm_->kv_->current_revision(); }
  kv::Revision compact_revision() const override { return sm_->kv_->compact_revision(); }
  Result<std::vector<kv::RevisionEvents>> events(kv::Revision from_rev, std::string_view key,
                                                 std::string_view range_end,
                                                 size_t max_events) const override {
    return sm_->kv_->events(from_rev, key, range_end, max_events);
  }
  Result<std::optional<kv::KeyValue>> previous_kv(std::string_view key, kv::Revision revision) const override {
    return sm_->kv_->previous_kv(key, revision);
  }

 private:
  const StateMachine* sm_;
};

StateMachine::StateMachine(storage::Engine& engine, StateMachineOptions options)
    : engine_(engine),
      options_(options),
      history_(std::make_unique<History>(this)),
      driver_(std::make_unique<assign::Driver>(options.assign)) {}

StateMachine::~StateMachine() = default;

const watch::EventHistory& StateMachine::history() const { return *history_; }

Result<std::unique_ptr<StateMachine>> StateMachine::open(storage::Engine& engine,
                                                         StateMachineOptions options) {
  std::unique_ptr<StateMachine> sm(new StateMachine(engine, options));
  auto s = sm->reload();
  if (!s.ok()) return s.error();
  return sm;
}

Result<StateMachine::Prepared> StateMachine::prepare_reload(storage::Engine& engine) {
  Prepared out;
  auto kv = kv::MvccStore::open(engine);
  if (!kv.ok()) return kv.error();
  out.kv = std::move(kv).value();
  // An overwrite reads no old record: the watch hub reads it for watchers
  // that want prev_kv (EventHistory::previous_kv), and the old lease comes
  // from the lessor (track_leases). It was 45% of the put rate at 1000
  // clients over 20,000 keys (bench/RESULTS.md, session 26).
  out.kv->set_prev_kv_in_events(false);
  // Attachments are not stored: rebuilt from the keys' lease fields, which
  // the store's own scan at open collected. (A range over every key here
  // held every value in memory at once: a start needed as much memory as
  // the key space.)
  out.lease_keys = out.kv->take_leased_at_open();
  return out;
}

Status StateMachine::reload() {
  auto prepared = prepare_reload(engine_);
  if (!prepared.ok()) return prepared.error();
  return reload(std::move(prepared).value());
}

Status StateMachine::reload(Prepared prepared) {
  kv_ = std::move(prepared.kv);
  auto s = load_members();
  if (!s.ok()) return s;
  s = load_leases(prepared.lease_keys);
  if (!s.ok()) return s;
  s = auth_.load(engine_);
  if (!s.ok()) return s;
  s = alarms_.load(engine_);
  if (!s.ok()) return s;
  return driver_->reload(*kv_);
}

Status StateMachine::load_leases(const std::vector<std::pair<lease::LeaseId, std::string>>& lease_keys) {
  const auto counts = lessor_ ? lessor_->checkpoint_counts() : lease::Lessor::CheckpointCounts{};
  lessor_ = std::make_unique<lease::Lessor>(options_.lease);
  lessor_->carry_counts(counts);
  auto s = lessor_->recover(engine_);
  if (!s.ok()) return s;
  for (const auto& [lease, key] : lease_keys) (void)lessor_->attach(lease, key);
  return Status();
}

void StateMachine::track_leases(const kv::RevisionEvents& events) {
  for (const auto& ev : events.events) {
    // A put's event may lack the overwritten record: the lessor knows the
    // key's lease either way.
    const kv::LeaseId old = ev.prev_kv ? ev.prev_kv->lease : lessor_->lease_of(ev.kv.key);
    if (old != 0 && (ev.type == kv::Event::Type::kDelete || old != ev.kv.lease)) {
      (void)lessor_->detach(old, ev.kv.key);
    }
    if (ev.type == kv::Event::Type::kPut && ev.kv.lease != 0) (void)lessor_->attach(ev.kv.lease, ev.kv.key);
  }
}

Status StateMachine::check_leases(const kv::TxnRequest& txn) const {
  for (const auto* ops : {&txn.success, &txn.failure}) {
    for (const auto& op : *ops) {
      if (auto* p = std::get_if<kv::PutRequest>(&op)) {
        if (p->lease != 0 && lessor_->lookup(p->lease) == nullptr) {
          return make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(p->lease) + " not found");
        }
      } else if (auto* t = std::get_if<std::shared_ptr<const kv::TxnRequest>>(&op)) {
        auto s = check_leases(**t);
        if (!s.ok()) return s;
      }
    }
  }
  return Status();
}

Status StateMachine::check_records(const kv::TxnRequest& txn) {
  for (const auto* ops : {&txn.success, &txn.failure}) {
    for (const auto& op : *ops) {
      if (auto* p = std::get_if<kv::PutRequest>(&op)) {
        if (p->options.ignore_value) continue;  // keeps a value that was checked
        auto problem = schema::records::check_client_put(p->key, p->value);
        if (!problem.empty()) return make_error(ErrorCode::kBadRequest, problem);
      } else if (auto* t = std::get_if<std::shared_ptr<const kv::TxnRequest>>(&op)) {
        auto s = check_records(**t);
        if (!s.ok()) return s;
      }
    }
  }
  return Status();
}

kv::RevisionEvents StateMachine::commit(kv::WriteTxn& txn, storage::WriteBatch& batch) {
  driver_->on_changes(txn, 0);
  // Every apply path ends with record_applied_index, which stages the state.
  return txn.commit_changes(batch);
}

Status StateMachine::load_members() {
  for (auto [prefix, table] : {std::pair{kMemberKeyPrefix, &members_}, std::pair{kRemovedMemberKeyPrefix, &removed_}}) {
    table->clear();
    std::string upper(prefix);
    upper.back() = static_cast<char>(upper.back() + 1);
    auto it = engine_.scan(Space::kKvMeta, prefix, upper);
    for (; it->valid(); it->next()) {
      auto m = decode_member(it->value());
      if (!m.ok()) return make_error(ErrorCode::kStorage, "member table: " + m.error().message);
      (*table)[m->id] = std::move(m).value();
    }
    if (!it->status().ok()) return it->status();
  }
  return Status();
}

std::optional<std::string> StateMachine::conf_change_refusal(const raft::ConfChange& cc) const {
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(cc.node_id));
  if (removed_.count(cc.node_id)) return "member id " + std::string(id) + " was removed; ids are never reused";
  auto member = members_.find(cc.node_id);
  switch (cc.type) {
    case raft::ConfChangeType::kAddNode:
      // A voter add of a learner is its promotion.
      if (member != members_.end() && !member->second.is_learner) return "member id " + std::string(id) + " is in use";
      return std::nullopt;
    case raft::ConfChangeType::kAddLearner:
      if (member != members_.end()) return "member id " + std::string(id) + " is in use";
      return std::nullopt;
    case raft::ConfChangeType::kRemoveNode:
      if (member == members_.end()) return "no member with id " + std::string(id);
      return std::nullopt;
  }
  return std::nullopt;
}

void StateMachine::apply_refused_conf_change(const raft::Entry& entry, const raft::ConfChange& cc,
                                             const std::string& why, storage::WriteBatch& batch,
                                             ApplyOutput& out) {
  if (entry.index <= kv_->applied_index()) return;
  kv_->record_applied_index(entry.index, batch);
  auto ctx = decode_conf_context(cc.context);
  if (ctx.ok() && ctx->proposer != 0 && (ctx->proposer == options_.self_id || options_.answer_all)) {
    out.answers.push_back(Applied{ctx->proposal_id, {}, true, api::wire_error(wire::ErrorCode::BAD_REQUEST, why)});
  }
}

api::Header StateMachine::header(uint64_t raft_term) const {
  api::Header h;
  h.cluster_id = options_.cluster_id;
  h.member_id = options_.self_id;
  h.revision = kv_->current_revision();
  h.raft_term = raft_term;
  return h;
}

void StateMachine::stage_initial_members(const std::vector<MemberInfo>& members,
                                         storage::WriteBatch& batch) {
  for (const auto& m : members) {
    batch.put(Space::kKvMeta, member_key(m.id), encode_member(m));
    members_[m.id] = m;
  }
}

void StateMachine::apply_entry(const raft::Entry& entry, storage::WriteBatch& batch,
                               ApplyOutput& out) {
  if (entry.index <= kv_->applied_index() || !out.unreadable.empty()) return;
  if (is_attributes(entry.data)) {
    auto m = decode_member(attributes_record(entry.data));
    auto it = m.ok() ? members_.find(m->id) : members_.end();
    if (it != members_.end()) {
      it->second.client_urls = m->client_urls;
      it->second.apply_version = m->apply_version;
      batch.put(Space::kKvMeta, member_key(it->first), encode_member(it->second));
      out.members_changed = true;
    }
  } else if (lease::is_checkpoint_entry(entry.data)) {
    apply_checkpoints(entry, batch);
  } else if (!entry.data.empty()) {
    auto cmd = decode_command(entry.data);
    if (!cmd.ok()) {
      // Not a format this binary knows (every proposer writes commands,
      // attributes or checkpoints): a newer binary's, never skipped.
      out.unreadable = "entry data of an unknown format (" + cmd.error().message + ")";
      out.unreadable_index = entry.index;
      return;
    }
    bool answer = options_.answer_all || cmd->proposer == options_.self_id;
    for (const auto& item : cmd->items) {
      std::string response = apply_request(item, entry, batch, answer, out.unreadable);
      if (!out.unreadable.empty()) {
        out.unreadable_index = entry.index;
        return;
      }
      if (answer && cmd->proposer != 0) {
        out.answers.push_back(Applied{item.proposal_id, std::move(response), false, {}});
      }
    }
  }
  kv_->record_applied_index(entry.index, batch);
}

void StateMachine::apply_checkpoints(const raft::Entry& entry, storage::WriteBatch& batch) {
  auto decoded = lease::decode_checkpoint_entry(entry.data);
  if (!decoded.ok()) {
    std::fprintf(stderr, "corrald: entry %llu: %s; skipped\n", static_cast<unsigned long long>(entry.index),
                 decoded.error().message.c_str());
    return;
  }
  // A lease revoked since the checkpoint was taken is simply gone.
  for (const auto& cp : decoded->batch.checkpoints) (void)lessor_->checkpoint(cp, &batch);
  if (decoded->proposer == options_.self_id) lessor_->own_batch_applied(entry.term, decoded->batch.sequence);
}

void StateMachine::apply_conf_change(const raft::Entry& entry, const raft::ConfChange& cc,
                                     storage::WriteBatch& batch, ApplyOutput& out) {
  if (entry.index <= kv_->applied_index()) return;
  auto ctx = decode_conf_context(cc.context);
  switch (cc.type) {
    case raft::ConfChangeType::kAddNode:
    case raft::ConfChangeType::kAddLearner: {
      MemberInfo m;
      auto existing = members_.find(cc.node_id);
      if (existing != members_.end()) m = existing->second;
      if (ctx.ok() && !ctx->member.empty()) {
        auto decoded = decode_member(ctx->member);
        if (decoded.ok()) {
          m.name = decoded->name;
          m.peer_urls = decoded->peer_urls;
          m.client_urls = decoded->client_urls;
        }
      }
      m.id = cc.node_id;
      m.is_learner = cc.type == raft::ConfChangeType::kAddLearner;
      members_[m.id] = m;
      batch.put(Space::kKvMeta, member_key(m.id), encode_member(m));
      break;
    }
    case raft::ConfChangeType::kRemoveNode: {
      auto gone = members_.find(cc.node_id);
      MemberInfo last = gone != members_.end() ? gone->second : MemberInfo{};
      last.id = cc.node_id;
      if (gone != members_.end()) members_.erase(gone);
      batch.del(Space::kKvMeta, member_key(cc.node_id));
      removed_[cc.node_id] = last;
      batch.put(Space::kKvMeta, removed_member_key(cc.node_id), encode_member(last));
      out.removed_members.push_back(cc.node_id);
      break;
    }
  }
  out.members_changed = true;
  kv_->record_applied_index(entry.index, batch);
  if (ctx.ok() && ctx->proposer != 0 && (ctx->proposer == options_.self_id || options_.answer_all)) {
    out.answers.push_back(Applied{ctx->proposal_id, {}, true, {}});
  }
}

Result<std::string> StateMachine::image() const { return image_of(*engine_.read_view()); }

Result<std::string> StateMachine::image_of(const storage::ReadView& view) {
  std::string out(kImageMagic);
  for (Space space : kImageSpaces) {
    auto it = view.scan(space, "", "");
    for (; it->valid(); it->next()) {
      auto k = it->key();
      auto v = it->value();
      append_image_record(out, space, k, v);
      if (out.size() > kMaxImageBytes) {
        return make_error(ErrorCode::kTooLarge, "state image past " + std::to_string(kMaxImageBytes) + " bytes");
      }
    }
    if (!it->status().ok()) return it->status().error();
  }
  out.push_back(static_cast<char>(kImageEnd));
  return out;
}

Status StateMachine::stage_restore(std::string_view image, storage::WriteBatch& batch) const {
  // The whole image is checked first, so that a broken one stages nothing.
  auto records = parse_state_image(image);
  if (!records.ok()) return records.error();
  for (Space space : kImageSpaces) {
    auto it = engine_.scan(space, "", "");
    for (; it->valid(); it->next()) batch.del(space, it->key());
  }
  for (const auto& rec : *records) batch.put(rec.space, rec.key, rec.value);
  return Status();
}

}  // namespace corral::server
