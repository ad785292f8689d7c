// A follower's snapshot install off the node loop. Installing a large image
// on the loop (parse, replace the state in one synced batch, flush) took
// 15.7 s for 129 MB at load 20: no heartbeat, vote or read was answered
// meanwhile and the leader counted the follower as gone. Here the loop
// hands the received snapshot over and goes on ticking and answering
// heartbeats; this thread
//   1. checks the whole image (a broken one changes nothing),
//   2. writes it as the install intent (install_intent.h), synced, and
//      reports kIntentWritten: the loop commits the install (commit_install:
//      the raft log store's snapshot record, one small synced write), tells
//      raft (RawNode::snapshot_installed) and pauses apply; from then on
//      the member appends and acknowledges the leader's entries (writes
//      commit) while
//   3. this thread replaces the state spaces in small unlogged writes (so a
//      loop write never queues behind a 100 MB batch),
//   4. flushes RocksDB: the new state is durable,
//   5. rebuilds the key index and lease attachments from it
//      (StateMachine::prepare_reload), and reports kLoaded: the loop takes
//      the prepared parts over and resumes apply; then this thread removes
//      the intent (forget_intent).
// Until kIntentWritten raft never hears of the snapshot: the member
// acknowledges nothing past its old log and drops the leader's appends.
// Until kLoaded it serves no read and applies nothing (node_snapshots.cc).
//
// One install at a time (a second is refused: the caller drops that
// snapshot and the leader sends one again). Stopping the member cancels a
// running install between two writes; the intent file finishes it at the
// next start (finish_interrupted_install).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/raft/types.h"
#include "coordinator/server/state_image.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"

namespace corral::server {

// Writes of one install step are bounded by these (a loop write waits at
// most for one of them).
inline constexpr size_t kInstallChunkBytes = size_t{1} << 20;
inline constexpr size_t kInstallChunkRecords = 4096;
// The load flushes after this many bytes, so that it never has RocksDB's
// memtables (16 MiB, 3 of them) filling faster than they are written out,
// when RocksDB stalls every writer, the loop's raft log appends too (our
// reading of follower loop turns of 290-918 ms during 120-300 MB installs
// without it; 26-95 ms with it: bench/RESULTS.md, s23-snapinstall).
inline constexpr size_t kInstallFlushBytes = size_t{8} << 20;

// Replaces the state spaces (kImageSpaces) with `records`, in unlogged
// writes of at most a chunk each, flushing every kInstallFlushBytes; not
// durable until a last flush. kUnavailable
// when `cancel` (if given) turns true between two writes.
Status load_state_image(storage::Engine& engine, const std::vector<ImageRecord>& records,
                        const std::atomic<bool>* cancel);
// The install's commit point, on the thread that owns the store: the
// snapshot's metadata, log start and conf state in one synced write. Call
// once the state it names is durable (load_state_image, then a flush).
Status commit_install(storage::Engine& engine, storage::RaftLogStore& store, const raft::SnapshotMetadata& meta);
// At start, before the state machine opens: an install that the intent at
// `path` says was under way is finished: the state loaded from it again
// (it may be half loaded; anything applied after it is replayed from the
// log, which is kept from the snapshot on until its state is loaded) and,
// unless done already, committed; the intent then removed. An intent older
// than the store's snapshot (the install finished, a local snapshot
// followed, the removal did not) is only removed. kStorage when the intent
// is unreadable or the install fails.
Status finish_interrupted_install(storage::Engine& engine, storage::RaftLogStore& store, const std::string& path);

class SnapshotInstaller {
 public:
  struct Done {
    enum class Stage { kIntentWritten, kLoaded } stage = Stage::kIntentWritten;
    raft::SnapshotMetadata meta;
    // kBadRequest: a broken image, nothing changed (before kIntentWritten).
    // kUnavailable: stopped. kStorage: the data dir is in an unknown state
    // (stop the member).
    Status status;
    std::optional<StateMachine::Prepared> prepared;  // kLoaded, when ok
  };

  // `intent_path` empty: no intent file (an in-memory engine). `wake` is
  // called from the installer thread when an install is done.
  SnapshotInstaller(storage::Engine& engine, std::string intent_path, std::function<void()> wake);
  ~SnapshotInstaller();  // cancels a running install, joins
  SnapshotInstaller(const SnapshotInstaller&) = delete;
  SnapshotInstaller& operator=(const SnapshotInstaller&) = delete;

  // False (nothing taken) while another install runs or waits to be taken.
  bool start(const raft::SnapshotMetadata& meta, std::string image);
  bool busy() const;
  // What happened since the last call, in order (at most one of each stage).
  std::vector<Done> take_done();
  // The install is committed: its intent file goes (on this thread; a
  // crash before that leaves an intent the next start finds committed).
  void forget_intent();

 private:
  void run();
  Status install(const raft::SnapshotMetadata& meta, const std::string& image);

  storage::Engine& engine_;
  const std::string intent_path_;
  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  std::optional<raft::SnapshotMetadata> job_meta_;
  std::string job_image_;
  bool running_ = false;
  bool remove_intent_ = false;
  std::vector<Done> done_;
  bool reported_loaded_ = false;  // a kLoaded (or failure) not taken yet
  std::thread thread_;
};

}  // namespace corral::server
