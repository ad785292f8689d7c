// Runs the assignment engine inside apply. After a request's operations ran
// in the revision's write txn, the driver reads the changes they made to the
// log-collection keys (schema/records.md), feeds them to the engine, and
// writes the assignment keys the engine wants into the same txn: a stream or
// a collector that comes or goes is reassigned in the same revision.
//
// The engine's state is a function of the key space: reload() rebuilds it
// from the stored keys after a restart or a snapshot install, so every
// member, however it got its state, decides the same.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "coordinator/assign/engine.h"
#include "coordinator/base/error.h"
#include "coordinator/kv/mvcc_store.h"

namespace corral::assign {

class Driver {
 public:
  explicit Driver(EngineOptions options = {});

  // Forgets everything and rebuilds the engine from what `kv` holds now.
  Status reload(const kv::MvccStore& kv);
  // Changes [first_change, end) of `txn` were made by a client's request:
  // react to them, writing assignment keys into `txn`.
  void on_changes(kv::WriteTxn& txn, size_t first_change);

  // Assignments marked revoking: assignment key -> its mod_revision (the
  // revision that marked it), for the leader's forced release.
  const std::map<std::string, int64_t>& revoking() const { return revoking_; }
  const Engine& engine() const { return *engine_; }

 private:
  void react(const kv::WriteTxn& txn, const kv::Event& ev);
  void on_agent(const std::string& id, const kv::Event& ev);
  void on_stream(const kv::WriteTxn& txn, const kv::Event& ev);
  void write(kv::WriteTxn& txn, const AssignmentChange& change);
  void rewrite_value(kv::WriteTxn& txn, const TaskId& task, const Placement& placement, int64_t epoch);

  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
  std::map<std::string, int64_t> revoking_;
  std::set<CollectorId> collectors_;  // ids whose agent record has the collector role
  std::set<TaskId> refresh_;          // streams whose source moved: rewrite their assignment's copy
  bool touched_ = false;              // the engine was called since the last finish()
};

}  // namespace corral::assign
