// The replicated state machine: the deterministic apply of committed raft
// entries to the key space (kv/), the member table, and (through the watch
// hub) the watchers. No clock, no randomness, ordered containers only: the
// same entries on two fresh stores give the same state and the same responses.
//
// Each request of a command runs in its own revision (its own kv write txn).
// Every change of an apply turn is staged into the caller's WriteBatch with
// the applied index, written without sync (the raft log replays it).
//
// Entries at or below the stored applied index are skipped: after a crash
// the raft log hands out again what the last unsynced apply batch may have
// lost, and after a snapshot install the image may be newer than its raft
// index (it is taken from the live state, as etcd's backend is).
#pragma once

#include "coordinator/server/alarms.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/api/errors.h"
#include "coordinator/api/response.h"
#include "coordinator/assign/driver.h"
#include "coordinator/auth/auth_store.h"
#include "coordinator/base/error.h"
#include "coordinator/kv/mvcc_store.h"
#include "coordinator/lease/lessor.h"
#include "coordinator/raft/types.h"
#include "coordinator/server/command.h"
#include "coordinator/server/members.h"
#include "coordinator/storage/engine.h"
#include "coordinator/watch/event_history.h"
#include "coordinator/watch/watch_hub.h"

namespace corral::server {

// Bound of a state-machine image (snapshot), in bytes.
inline constexpr uint64_t kMaxImageBytes = 1ull << 30;

// The answer to one proposal of this member.
struct Applied {
  uint64_t proposal_id = 0;
  std::string response;           // a flat ServerMessage (normal entries)
  bool conf_change = false;       // a membership change: the node encodes the answer
  std::optional<api::WireError> conf_error;
};

struct ApplyOutput {
  std::vector<Applied> answers;
  // Set when an entry holds something this binary cannot read (a newer
  // proposer's request kind or format; apply_version.h): that entry and
  // everything after it are not applied, and this batch must not be
  // written (the state machine's memory may hold part of that entry): the
  // caller stops the member before it answers anyone.
  std::string unreadable;
  uint64_t unreadable_index = 0;
  bool members_changed = false;
  std::vector<uint64_t> removed_members;
};

struct StateMachineOptions {
  uint64_t self_id = 0;
  uint64_t cluster_id = 0;
  // Encode responses to every proposer's requests, not only ours (tests).
  bool answer_all = false;
  assign::EngineOptions assign;
  lease::LessorOptions lease;
};

class StateMachine {
 public:
  static Result<std::unique_ptr<StateMachine>> open(storage::Engine& engine,
                                                    StateMachineOptions options);
  ~StateMachine();

  uint64_t applied_index() const { return kv_->applied_index(); }
  kv::MvccStore& kv() { return *kv_; }
  lease::Lessor& lessor() { return *lessor_; }
  const lease::Lessor& lessor() const { return *lessor_; }
  const kv::MvccStore& kv() const { return *kv_; }
  const watch::EventHistory& history() const;
  void set_watch_hub(watch::WatchHub* hub) { hub_ = hub; }
  const std::map<uint64_t, MemberInfo>& members() const { return members_; }
  // Members removed over the cluster's life, with their last record. Their
  // ids are never given out again.
  const std::map<uint64_t, MemberInfo>& removed_members() const { return removed_; }
  bool member_id_taken(uint64_t id) const { return members_.count(id) || removed_.count(id); }
  // Why a committed membership change must not take effect (deterministic:
  // from the replicated state only): an add of an id in use or removed, a
  // remove of an id that is not a member. nullopt: it may.
  std::optional<std::string> conf_change_refusal(const raft::ConfChange& cc) const;
  const assign::Driver& assignment() const { return *driver_; }
  const auth::AuthStore& auth() const { return auth_; }
  const AlarmTable& alarms() const { return alarms_; }
  api::Header header(uint64_t raft_term) const;

  // Bootstrap of a new cluster: the initial member table.
  void stage_initial_members(const std::vector<MemberInfo>& members, storage::WriteBatch& batch);

  // A committed normal entry (an empty one is a leader's no-op): a command,
  // member attributes or a lease checkpoint batch.
  void apply_entry(const raft::Entry& entry, storage::WriteBatch& batch, ApplyOutput& out);
  // A committed membership change, after raft applied it.
  void apply_conf_change(const raft::Entry& entry, const raft::ConfChange& cc,
                         storage::WriteBatch& batch, ApplyOutput& out);
  // A committed membership change that conf_change_refusal refused (raft
  // applied it as a no-op): records the index, answers the proposer.
  void apply_refused_conf_change(const raft::Entry& entry, const raft::ConfChange& cc,
                                 const std::string& why, storage::WriteBatch& batch, ApplyOutput& out);
  // Every batch staged so far was written.
  void batch_written() { kv_->batch_written(); }

  // The image of spaces kKv, kKvMeta and kLease as written now. Format:
  //   "CRLIMG01" | { u8 space | u32 key length | key | u32 value length | value }* | u8 0xff
  // kTooLarge past kMaxImageBytes. Call with no staged, unwritten batch.
  Result<std::string> image() const;
  // The same image from a point-in-time view of the engine: what a
  // background thread builds while apply goes on.
  static Result<std::string> image_of(const storage::ReadView& view);
  // Stages replacing those spaces by an image; kBadRequest for a broken one
  // (nothing staged then). After writing the batch, call reload().
  Status stage_restore(std::string_view image, storage::WriteBatch& batch) const;
  Status reload();
  // The long part of reload (the key index and the lease attachments, read
  // from every key), done by another thread from the engine alone: call it
  // only while nothing writes the state spaces (a follower's snapshot
  // install, snapshot_installer.h). reload(prepared) then takes it over.
  struct Prepared {
    std::unique_ptr<kv::MvccStore> kv;
    std::vector<std::pair<lease::LeaseId, std::string>> lease_keys;  // attachments
  };
  static Result<Prepared> prepare_reload(storage::Engine& engine);
  Status reload(Prepared prepared);

 private:
  class History;
  StateMachine(storage::Engine& engine, StateMachineOptions options);
  Status load_members();
  Status load_leases(const std::vector<std::pair<lease::LeaseId, std::string>>& lease_keys);
  void apply_checkpoints(const raft::Entry& entry, storage::WriteBatch& batch);
  // Keeps lease attachments in step with the key space after a commit.
  void track_leases(const kv::RevisionEvents& events);
  // kLeaseNotFound if a put of the request names a lease that does not exist.
  Status check_leases(const kv::TxnRequest& txn) const;
  // kBadRequest if a put of the request breaks a log-collection record's
  // schema (schema/records.md).
  static Status check_records(const kv::TxnRequest& txn);
  // Runs the assignment pass over the request's changes, then commits.
  kv::RevisionEvents commit(kv::WriteTxn& txn, storage::WriteBatch& batch);
  // Also sends the changes to the lease attachments and the watch hub.
  void feed(const kv::RevisionEvents& events);

  // state_machine_requests.cc: one client request of a command entry.
  struct Applying {
    uint64_t id = 0;  // the request's, for its answer
    const raft::Entry& entry;
    storage::WriteBatch& batch;
    bool answer = false;  // this member owes the proposer an answer
  };
  // `unreadable` is set (and nothing applied) for a request kind this binary does not know.
  std::string apply_request(const CommandItem& item, const raft::Entry& entry,
                            storage::WriteBatch& batch, bool answer, std::string& unreadable);
  std::string apply_put(const Applying& a, schema::api::PutRequest::Reader r);
  std::string apply_delete(const Applying& a, schema::api::DeleteRangeRequest::Reader r);
  std::string apply_txn(const Applying& a, schema::api::TxnRequest::Reader r);
  std::string apply_lease_grant(const Applying& a, schema::api::LeaseGrantRequest::Reader r);
  std::string apply_lease_grant_batch(const Applying& a, schema::api::LeaseGrantBatchRequest::Reader r);
  // One grant with its keys, in its own revision, all or nothing; `slot` as
  // in Lessor::grant (0 for a single grant).
  Result<lease::LeaseId> grant_with_keys(const Applying& a, schema::api::LeaseGrantRequest::Reader g,
                                         uint64_t slot);
  std::string apply_lease_revoke(const Applying& a, int64_t lease_id);
  // The answer: an error, or the response `fill` writes; empty when none is owed.
  std::string refuse(const Applying& a, const Error& e) const;
  template <typename Fill>
  std::string reply(const Applying& a, Fill fill) const;

  storage::Engine& engine_;
  StateMachineOptions options_;
  std::unique_ptr<kv::MvccStore> kv_;
  std::unique_ptr<History> history_;
  std::unique_ptr<lease::Lessor> lessor_;
  std::unique_ptr<assign::Driver> driver_;
  watch::WatchHub* hub_ = nullptr;
  std::map<uint64_t, MemberInfo> members_;
  std::map<uint64_t, MemberInfo> removed_;
  AlarmTable alarms_;
  auth::AuthStore auth_;
};

}  // namespace corral::server
