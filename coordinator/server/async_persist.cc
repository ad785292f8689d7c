#include "coordinator/server/async_persist.h"

#include <utility>

#include "coordinator/base/check.h"
#include "coordinator/server/storage_failure.h"

namespace corral::server {

AsyncPersist::AsyncPersist(storage::Engine& engine, storage::RaftLogStore& store, raft::RawNode& raw,
                           std::function<void()> wake, StorageWriterLimits limits,
                           StorageWriter::SyncObserver synced)
    : engine_(engine),
      store_(store),
      raw_(raw),
      writer_(std::make_unique<StorageWriter>(engine, std::move(wake), limits, std::move(synced))) {}

AsyncPersist::~AsyncPersist() { writer_.reset(); }

bool AsyncPersist::takes(const raft::Ready& rd, bool is_leader) const {
  if (!is_leader || rd.snapshot) return false;
  // A new term or vote must be durable before any message of this Ready
  // goes out (a leader's own never changes while it leads).
  if (rd.hard_state) {
    const raft::HardState& on_disk = store_.latest_hard_state();
    if (rd.hard_state->term != on_disk.term || rd.hard_state->vote != on_disk.vote) return false;
  }
  return true;
}

void AsyncPersist::submit(const raft::Ready& rd) {
  storage::WriteBatch batch;
  auto staged = store_.stage_append(batch, rd.entries);
  CORRAL_CHECK_MSG(staged.ok(), staged.error().message.c_str());
  if (rd.hard_state) store_.stage_hard_state(batch, *rd.hard_state);
  if (!store_.seal_staged()) return;  // nothing to write
  const bool has_entries = !rd.entries.empty();
  const raft::Index index = has_entries ? rd.entries.back().index : 0;
  const raft::Term term = has_entries ? rd.entries.back().term : 0;
  // Only a new commit index, nothing ahead of it: written here without a
  // sync (as the synchronous path does), no wake-up of the loop for it.
  // Behind writes in flight it must queue (it may name their entries).
  if (!has_entries) {
    collect();
    if (store_.sealed_in_flight() == 1) return write_here(std::move(batch), 0, 0, false);
  }
  if (writer_->submit(std::move(batch), index, term, has_entries)) return;
  // The queue is full: wait for it, then write on this thread.
  ++queue_full_;
  drain();
  write_here(std::move(batch), index, term, true);
}

void AsyncPersist::collect() {
  for (const StorageWriter::Done& d : writer_->take_done()) {
    if (!d.status.ok()) stop_on_storage_failure("raft log write (storage writer)", d.status.error());
    finished(d.index, d.term);
  }
}

void AsyncPersist::drain() {
  if (store_.sealed_in_flight() == 0) return;
  writer_->drain();
  collect();
}

void AsyncPersist::finished(raft::Index index, raft::Term term) {
  // The store first: once raft hears of it, it reads these entries there.
  store_.on_sealed_written();
  if (index != 0) raw_.advance_append(index, term);
}

void AsyncPersist::write_here(storage::WriteBatch batch, raft::Index index, raft::Term term, bool sync) {
  auto w = engine_.write(std::move(batch), sync);
  if (!w.ok()) stop_on_storage_failure("raft log write", w.error());
  finished(index, term);
}

}  // namespace corral::server
